"""Phoenix: annotations, datasets and experiments, golden export, session finish."""
