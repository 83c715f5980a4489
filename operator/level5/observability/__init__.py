"""What the operator and the node observe: Prometheus metrics, execution monitoring (layer 4 anomalies)
and the system-call collector with its wire decoder."""
