"""lumagate: a self-hosted gateway for Luma Dream Machine video generation."""

__version__ = "0.1.0"
