from django import forms


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form: the name teammates will see."""

    full_name = forms.CharField(
        label="Full name", max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text="Shown to your teammates, e.g. on review stages waiting on you.",
    )

    field_order = ["full_name", "email", "password1", "password2"]

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError("Enter your name.")
        return name

    def signup(self, request, user) -> None:
        """Required by allauth; AccountAdapter.save_user already stored the name."""
