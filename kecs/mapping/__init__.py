"""Pure functions between the ECS model and Kubernetes objects (plain dicts).

Imports only :mod:`kecs.model`, :mod:`kecs.k8s_grammar` and the standard library; never a
backend. This is what lets the mapping be property-tested without a cluster.
"""
