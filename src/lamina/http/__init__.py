"""HTTP that is not an AWS API call: Lamina's own HTTP server (server.py), the Prometheus
endpoint (metrics.py), and later API Gateway HTTP APIs, function URLs and the dashboard."""
