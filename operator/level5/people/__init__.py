"""People in the loop: escalation triggers and the admission webhook's rules."""
