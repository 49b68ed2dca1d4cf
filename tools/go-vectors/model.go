package main

import "time"

// The GoSight model's JSON layout, re-declared from the field names and tags: the agent's
// pinned model (gosight-shared 55ec3c7) for the agent shape, gosight-shared HEAD for the
// data-point shape. Only the JSON names, the Go types and pointer-ness matter to decoding;
// omitempty flags are kept as the models have them.

type StatisticValues struct {
	Minimum     float64 `json:"min"`
	Maximum     float64 `json:"max"`
	SampleCount int     `json:"count"`
	Sum         float64 `json:"sum"`
}

// AgentMetric is the pinned model's Metric (the agent shape).
type AgentMetric struct {
	Namespace         string            `json:"namespace,omitempty"`
	SubNamespace      string            `json:"subnamespace,omitempty"`
	Name              string            `json:"name"`
	Timestamp         time.Time         `json:"timestamp"`
	Value             float64           `json:"value"`
	StatisticValues   *StatisticValues  `json:"stats"`
	Unit              string            `json:"unit,omitempty"`
	Dimensions        map[string]string `json:"dimensions,omitempty"`
	StorageResolution int               `json:"resolution,omitempty"`
	Type              string            `json:"type,omitempty"`
}

type Exemplar struct {
	Value              float64           `json:"value"`
	Timestamp          time.Time         `json:"timestamp"`
	TraceID            string            `json:"trace_id,omitempty"`
	SpanID             string            `json:"span_id,omitempty"`
	FilteredAttributes map[string]string `json:"filtered_attributes,omitempty"`
}

type QuantileValue struct {
	Quantile float64 `json:"quantile"`
	Value    float64 `json:"value"`
}

type DataPoint struct {
	Attributes     map[string]string `json:"attributes,omitempty"`
	StartTimestamp time.Time         `json:"start_timestamp,omitempty"`
	Timestamp      time.Time         `json:"timestamp"`
	Value          float64           `json:"value,omitempty"`
	Count          uint64            `json:"count,omitempty"`
	Sum            float64           `json:"sum,omitempty"`
	BucketCounts   []uint64          `json:"bucket_counts,omitempty"`
	ExplicitBounds []float64         `json:"explicit_bounds,omitempty"`
	QuantileValues []QuantileValue   `json:"quantile_values,omitempty"`
	Exemplars      []Exemplar        `json:"exemplars,omitempty"`
}

// PointsMetric is the newer model's Metric (the data-point shape).
type PointsMetric struct {
	Namespace              string      `json:"namespace,omitempty"`
	SubNamespace           string      `json:"subnamespace,omitempty"`
	Name                   string      `json:"name"`
	Description            string      `json:"description,omitempty"`
	Unit                   string      `json:"unit,omitempty"`
	Source                 string      `json:"source,omitempty"`
	DataType               string      `json:"type,omitempty"`
	AggregationTemporality string      `json:"aggregation_temporality,omitempty"`
	DataPoints             []DataPoint `json:"data_points,omitempty"`
	StorageResolution      int         `json:"resolution,omitempty"`
	Meta                   *Meta       `json:"meta,omitempty"`
}

// Meta holds the pinned model's fields (its spellings included) and the newer model's
// additions, as DESIGN.md lists them: both models read the same object.
type Meta struct {
	AgentID              string            `json:"agent_id,omitempty"`
	AgentVersion         string            `json:"agent_version,omitempty"`
	HostID               string            `json:"host_id,omitempty"`
	EndpointID           string            `json:"endpoint_id,omitempty"`
	ResourceID           string            `json:"resource_id"`
	Kind                 string            `json:"kind,omitempty"`
	Hostname             string            `json:"hostname,omitempty"`
	IPAddress            string            `json:"ip_address,omitempty"`
	OS                   string            `json:"os,omitempty"`
	OSVersion            string            `json:"os_version,omitempty"`
	Platform             string            `json:"platform,omitempty"`
	PlatformFamily       string            `json:"platform_family,omitempty"`
	PlatformVersion      string            `json:"platform_version,omitempty"`
	KernelArchitecture   string            `json:"kernel_architecture,omitempty"`
	VirtualizationSystem string            `json:"virtualization_system,omitempty"`
	VirtualizationRole   string            `json:"virtualization_role,omitempty"`
	KernelVersion        string            `json:"kernel_version,omitempty"`
	Architecture         string            `json:"architecture,omitempty"`
	CloudProvider        string            `json:"cloud_provider,omitempty"`
	Region               string            `json:"region,omitempty"`
	AvailabilityZone     string            `json:"availability_zone,omitempty"`
	InstanceID           string            `json:"instance_id,omitempty"`
	InstanceType         string            `json:"instance_type,omitempty"`
	AccountID            string            `json:"account_id,omitempty"`
	ProjectID            string            `json:"project_id,omitempty"`
	ResourceGroup        string            `json:"resource_group,omitempty"`
	VPCID                string            `json:"vpc_id,omitempty"`
	SubnetID             string            `json:"subnet_id,omitempty"`
	ImageID              string            `json:"image_id,omitempty"`
	ServiceID            string            `json:"service_id,omitempty"`
	ContainerID          string            `json:"container_id,omitempty"`
	ContainerName        string            `json:"container_name,omitempty"`
	PodName              string            `json:"pod_name,omitempty"`
	Namespace            string            `json:"namespace,omitempty"`
	ClusterName          string            `json:"cluster_name,omitempty"`
	NodeName             string            `json:"node_name,omitempty"`
	ContianerImageID     string            `json:"contianer_image_id,omitempty"`
	ImageName            string            `json:"image_name,omitempty"`
	ContainerImageID     string            `json:"container_image_id,omitempty"`
	ContainerImageName   string            `json:"container_image_name,omitempty"`
	Application          string            `json:"application,omitempty"`
	Environment          string            `json:"environment,omitempty"`
	Service              string            `json:"service,omitempty"`
	Version              string            `json:"version,omitempty"`
	DeploymentID         string            `json:"deployment_id,omitempty"`
	PublicIP             string            `json:"public_ip,omitempty"`
	PrivateIP            string            `json:"private_ip,omitempty"`
	MACAddress           string            `json:"mac_address,omitempty"`
	NetworkInterface     string            `json:"network_interface,omitempty"`
	RuntimeName          string            `json:"runtime_name,omitempty"`
	RuntimeVersion       string            `json:"runtime_version,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	Tags                 map[string]string `json:"tags,omitempty"`
}

// AgentPayload is MetricPayload with the agent-shape metrics.
type AgentPayload struct {
	AgentID    string        `json:"agent_id"`
	HostID     string        `json:"host_id"`
	Hostname   string        `json:"hostname"`
	EndpointID string        `json:"endpoint_id"`
	Metrics    []AgentMetric `json:"metrics"`
	Meta       *Meta         `json:"meta,omitempty"`
	Timestamp  time.Time     `json:"timestamp"`
}

// PointsPayload is MetricPayload with the data-point-shape metrics.
type PointsPayload struct {
	AgentID    string         `json:"agent_id"`
	HostID     string         `json:"host_id"`
	Hostname   string         `json:"hostname"`
	EndpointID string         `json:"endpoint_id"`
	Metrics    []PointsMetric `json:"metrics"`
	Meta       *Meta          `json:"meta,omitempty"`
	Timestamp  time.Time      `json:"timestamp"`
}
