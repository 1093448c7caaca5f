//! Prometheus metrics: requests by endpoint, grants, denials by code, and a latency histogram by endpoint.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::licensing::api::DenialCode;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<EndpointLabel, Counter>,
    grants: Counter,
    denials: Family<CodeLabel, Counter>,
    latency: Family<EndpointLabel, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fci_licensing");
        let requests = Family::<EndpointLabel, Counter>::default();
        let grants = Counter::default();
        let denials = Family::<CodeLabel, Counter>::default();
        let latency = Family::<EndpointLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("requests", "Requests answered, by endpoint", requests.clone());
        registry.register("grants", "Use licenses issued", grants.clone());
        registry.register("denials", "Requests denied, by denial code", denials.clone());
        registry.register("request_duration_seconds", "Time to answer, by endpoint", latency.clone());
        // Every code appears from the start, at 0, so dashboards and alerts see them.
        for code in DenialCode::ALL {
            let _ = denials.get_or_create(&CodeLabel { code: code.as_str().into() });
        }
        Metrics { registry, requests, grants, denials, latency }
    }

    /// Count one answered request.
    pub fn observe(&self, endpoint: &str, seconds: f64, denial: Option<DenialCode>) {
        let label = EndpointLabel { endpoint: endpoint.into() };
        self.requests.get_or_create(&label).inc();
        self.latency.get_or_create(&label).observe(seconds);
        if let Some(code) = denial {
            self.denials.get_or_create(&CodeLabel { code: code.as_str().into() }).inc();
        }
    }

    /// Count one use license issued.
    pub fn granted(&self) {
        self.grants.inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
