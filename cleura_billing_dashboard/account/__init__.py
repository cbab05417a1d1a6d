"""The billing account: what a project tells us about who pays and how.

Pure rules on plain dicts, no Django request and no Keystone: the facade
(``api/account.py``) reads the document from Keystone, hands it to these
functions and writes back what they return.

* ``document``: the stored JSON document (schema, defaults, loading).
* ``customer``: customer info and its validation per country.
* ``contacts``: email addresses, their roles and the rules between them.
* ``phones``: the phone list.
* ``preferences``: invoice delivery and language.
* ``verification``: one-time codes that prove an address is reachable.
* ``invoicing``: what issuing needs from an account (buyer, recipients).

Every refusal is an ``errors.AccountError`` whose ``message`` is for the
user (lazy, so it renders in the user's language) and whose ``code`` is for
programs and tests.
"""
