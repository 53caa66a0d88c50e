"""The Geometric Lens: an energy model C(x) over the generating model's own embeddings."""
