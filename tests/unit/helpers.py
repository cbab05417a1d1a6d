"""What several of the plugin's Horizon test cases share."""


class RoleMixin(object):
    """``as_role(name)``: the test's user, logged in with that one role."""

    def as_role(self, role):
        self.setActiveUser(id=self.user.id, token=self.token,
                           username=self.user.name,
                           tenant_id=self.tenant.id,
                           service_catalog=self.service_catalog,
                           authorized_tenants=self.tenants.list(),
                           roles=[{'name': role}])
