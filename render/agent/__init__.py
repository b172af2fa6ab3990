"""One agent, rendered: its AgentCard, routes, runtime config, Deployment, autoscaler and NetworkPolicy as plain dicts."""
