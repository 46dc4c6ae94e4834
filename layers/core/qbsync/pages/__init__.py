"""The tenant's hosted dashboard: server-rendered pages (Jinja2, autoescaped) served by ConnectFunction.

`routes.py` adds the pages to the connect pages' resolver, `render.py` renders the templates under
`templates/`, and `catalogue.py` holds every sentence the pages show, so that they can be translated.
"""
