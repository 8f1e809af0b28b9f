"""HTTP that is not an AWS API call: Lamina's own HTTP server (server.py), the binding of its
port (listen.py), its front processes (fronts.py, link.py), and Lamina's own endpoints:
the page at / (root.py), /_lamina/health and LocalStack's /_localstack/health (health.py),
/metrics in Prometheus text (metrics.py), function code packages (code.py), SNS's
subscribe and unsubscribe links (sns_links.py). Later: API Gateway, function URLs, the
dashboard."""
