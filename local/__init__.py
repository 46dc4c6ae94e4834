"""The Docker-free local stack: template.yaml read as the one source of truth, moto as AWS, handlers in-process.

Never deployed.
"""
