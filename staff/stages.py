from allauth.mfa.stages import AuthenticateStage


class PasswordSecondFactorStage(AuthenticateStage):
    """allauth's second-factor step for password sign-ins only: a provider's sign-in brings its own.

    Keeps allauth's key, so allauth's second-factor page finds it.
    """

    def _should_handle(self, request) -> bool:
        if (self.login.signal_kwargs or {}).get("sociallogin") is not None:
            return False
        return super()._should_handle(request)
