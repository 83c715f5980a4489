"""Every Kubernetes API call the operator makes about sandboxes, tasks and approvals."""
