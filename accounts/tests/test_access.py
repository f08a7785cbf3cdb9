import pytest

from accounts.access import AccessFacts, AccessKey, access_state


@pytest.mark.parametrize(
    ("facts", "key", "headline", "button"),
    [
        (AccessFacts(email="a@example.com", email_verified=False), AccessKey.VERIFY_EMAIL,
         "Verify your email", "Resend verification email"),
        (AccessFacts(email="a@example.com", email_verified=True), AccessKey.NOT_ATTACHED,
         "Not attached to an organization", "Read how to get started"),
    ],
)
def test_access_state_maps_facts_to_one_sentence_and_one_step(facts, key, headline, button):
    state = access_state(facts)

    assert state.key == key
    assert state.headline == headline
    assert state.step.label == button


def test_unverified_state_names_the_address_the_link_went_to():
    state = access_state(AccessFacts(email="dana@acme.test", email_verified=False))

    assert "dana@acme.test" in state.sentence
    assert state.step.method == "post"
