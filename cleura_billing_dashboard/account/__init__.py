"""The billing account: what a project tells us about who pays and how.

Rules on plain dicts, and the store that keeps them; no request and no
Horizon. The facade (``api/account.py``) reads the document, hands it to
these rules and writes back what they return through ``store``.

* ``document``: the stored JSON document (schema, defaults, loading).
* ``customer``: customer info and its validation per country.
* ``contacts``: email addresses, their roles and the rules between them.
* ``phones``: the phone list.
* ``preferences``: invoice delivery and language.
* ``verification``: one-time codes that prove an address is reachable.
* ``invoicing``: what issuing needs from an account (buyer, recipients).
* ``store``: the Keystone attribute, its lock row and compare-and-set,
  and ``AccountReader`` for issuing.

Every refusal is an ``errors.AccountError`` whose ``message`` is for the
user (lazy, so it renders in the user's language) and whose ``code`` is for
programs and tests.
"""
