"""Example strategies referenced by configs and blueprints."""
