"""placeholder, replaced below"""
import click


@click.command("fit-scaling")
def fit_scaling():
    """Fit a loss-curve law."""
