"""corGAN studio core library: data, models, training runs, metrics, reports and the CLI."""
__version__ = "0.1.0"
