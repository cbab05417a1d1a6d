"""The demo's projects, users and role assignments in the lab's Keystone."""

DEMO_PASSWORD = 'demo'

# (project, user, role): the identities the issue names for the demo.
DEMO_USERS = [
    ('acme', 'alice', 'manager'),
    ('acme', 'bob', 'member'),
    ('acme', 'carol', 'reader'),
    ('globex', 'dave', 'manager'),
]


def ensure_identities(ks, users=DEMO_USERS, password=DEMO_PASSWORD):
    """Projects, users and role assignments; what exists already is kept."""
    roles = {role.name: role for role in ks.roles.list()}
    for name in {role for _, _, role in users} - set(roles):
        roles[name] = ks.roles.create(name)
    projects = {}
    for project_name, user_name, role_name in users:
        if project_name not in projects:
            found = ks.projects.list(name=project_name, domain='default')
            projects[project_name] = found[0] if found else (
                ks.projects.create(project_name, 'default'))
        project = projects[project_name]
        found = ks.users.list(name=user_name, domain='default')
        user = found[0] if found else ks.users.create(
            user_name, domain='default', password=password,
            default_project=project)
        ks.roles.grant(roles[role_name], user=user, project=project)
    return projects


def tenant_users(count, prefix='tenant'):
    """``count`` projects, each with a reader and a member, for ``users``.

    Project ``<prefix>-007`` has ``<prefix>-007-reader`` and
    ``<prefix>-007-member`` (password ``DEMO_PASSWORD``).
    """
    users = []
    for n in range(1, count + 1):
        project = '%s-%03d' % (prefix, n)
        users += [(project, project + '-reader', 'reader'),
                  (project, project + '-member', 'member')]
    return users
