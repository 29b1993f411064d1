"""What an operator watches: Prometheus metrics, request ids, structured logs, readiness."""
