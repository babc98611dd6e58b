"""What the pages and the API read, one module per role (``assistant``, ``review``, ``search``, ``analyst``,
``admin``), scoped by the user and returned as the views of ``wugan.web.views``.

Every function takes the session and the user (keyword-only). Lists come back
as ``Page``: counted in SQL, so the total is true however long the list.
"""
