"""The resource models and everything generated from them: the AgentTask spec and status, the Approval, the
verdict type, and CRD generation. The single source of truth for the CRDs (`make crds`)."""
