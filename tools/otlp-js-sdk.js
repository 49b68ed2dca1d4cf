// Writes testdata/otlp-json/js-sdk.otlp.jsonl with the OpenTelemetry JavaScript SDK's own
// OTLP JSON serializer, for tests/it/otlp_json.rs and convert's loss test. To regenerate:
//   npm install @opentelemetry/api@1.9.1 @opentelemetry/sdk-metrics@2.12.1 \
//     @opentelemetry/resources@2.12.1 @opentelemetry/otlp-transformer@0.223.1
//   node tools/otlp-js-sdk.js   (writes /tmp/otlp-js/js-sdk.otlp.jsonl; copy it over)
'use strict';
const fs = require('fs');
const { ValueType } = require('@opentelemetry/api');
const {
  MeterProvider, MetricReader, AggregationType, AggregationTemporality,
} = require('@opentelemetry/sdk-metrics');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { JsonMetricsSerializer } = require('@opentelemetry/otlp-transformer');

// A reader driven by hand: collect() is public on MetricReader.
class ManualReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

const cumulativeReader = new ManualReader(); // default: cumulative for all
const deltaReader = new ManualReader({
  aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
});

const resource = resourceFromAttributes({
  'service.name': 'js-demo',
  'host.name': 'web-1',
  'process.pid': 4242,
  'demo.flag': true,
  'demo.ratio': 0.25,
  'demo.tags': ['a', 'b'],
});

const provider = new MeterProvider({
  resource,
  views: [
    {
      instrumentName: 'demo.latency.exp',
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
    },
  ],
  readers: [cumulativeReader, deltaReader],
});

const meter = provider.getMeter('demo-meter', '1.2.3', {
  schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
});

const counter = meter.createCounter('demo.requests', {
  description: 'Number of requests', unit: '{request}', valueType: ValueType.INT,
});
const upDown = meter.createUpDownCounter('demo.active', {
  description: 'Active requests', unit: '{request}', valueType: ValueType.INT,
});
const hist = meter.createHistogram('demo.latency', {
  description: 'Latency', unit: 'ms', valueType: ValueType.DOUBLE,
  advice: { explicitBucketBoundaries: [0, 5, 10] },
});
const expHist = meter.createHistogram('demo.latency.exp', {
  description: 'Latency (exponential)', unit: 'ms', valueType: ValueType.DOUBLE,
});
const gauge = meter.createObservableGauge('demo.temperature', {
  description: 'Temperature', unit: 'Cel', valueType: ValueType.DOUBLE,
});
let temperature = 21.5;
gauge.addCallback((res) => res.observe(temperature, { sensor: 's1' }));

const attrs = { 'http.status_code': 500, route: '/a' };

function line(resourceMetrics) {
  const bytes = JsonMetricsSerializer.serializeRequest(resourceMetrics);
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\n') ? JSON.stringify(JSON.parse(text)) : text;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  return line(resourceMetrics);
}

(async () => {
  const out = [];
  // round 1
  counter.add(3, attrs);
  counter.add(1, { 'http.status_code': 200, route: '/b' });
  upDown.add(5, { route: '/a' });
  upDown.add(-2, { route: '/a' });
  for (const v of [0, 1.5, 4, 7.25, 12]) hist.record(v, { route: '/a' });
  for (const v of [0, 0.5, 1, 2, 3.75, 100]) expHist.record(v, { route: '/a' });
  await collect(deltaReader); // starts the delta interval; discarded
  out.push(await collect(cumulativeReader));

  await sleep(25);
  // round 2
  counter.add(7, attrs);
  upDown.add(-1, { route: '/a' });
  for (const v of [5, 10, 11]) hist.record(v, { route: '/a' });
  for (const v of [0.25, 8]) expHist.record(v, { route: '/a' });
  temperature = 22.75;
  out.push(await collect(cumulativeReader));
  await sleep(25);
  out.push(await collect(deltaReader)); // delta: only round-2 recordings

  fs.writeFileSync('/tmp/otlp-js/js-sdk.otlp.jsonl', out.join('\n') + '\n');
  await provider.shutdown();
  console.log(`wrote ${out.length} lines`);
})().catch((e) => { console.error(e); process.exit(1); });
