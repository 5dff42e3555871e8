"""The composition: settings (one module, configured by environment), the site's routes
(one include per package), wsgi/asgi, the Celery application, database routers, gunicorn,
health, logs and the security glue settings point to.

config may import every package; no package imports config (`make lint` checks it).
"""
