module metricsender/tools/go-vectors

go 1.27
