"""Layer 3, the pre-execution review: the reviewer (verdict and findings), the AST analyser, the policy
tables and bandit as a second opinion."""
