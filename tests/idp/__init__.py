"""Real identity providers for the staff sign-in tests, started on free ports of this machine.

- `oidc.py`: node-oidc-provider (npm, tests/idp/package.json) in a process of its own;
- `saml.py`: a SAML 2.0 IdP built on pysaml2, served from a thread;
- `fixtures.py`: the pytest fixtures that start and stop them.
"""
