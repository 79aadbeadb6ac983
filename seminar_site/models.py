# No models. The module exists so that Django sends this app post_migrate,
# which creates the database cache's table (seminar_site.cache).
