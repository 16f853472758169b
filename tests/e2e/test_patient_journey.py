"""A patient accepts an invitation, chooses a password, signs in, sees their own series, and
cannot open another patient's photo."""

from __future__ import annotations

from .conftest import screenshot, sign_in

PATIENT_PASSWORD = "my own secret phrase"


def test_patient_accepts_invitation_and_sees_only_their_photos(browser, page, server):
    # The clinic admin creates the invitation on screen.
    sign_in(page, server.url, server.admin_email)
    page.goto(f"{server.url}/patients/{server.pat_two_id}")
    page.click("button:has-text('Invite patient')")
    link = page.input_value("#invite-link")
    assert link.startswith(server.url + "/invite/")

    # The patient, on their own tablet (portrait), opens the link.
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    patient = context.new_page()
    try:
        patient.goto(link)
        assert "Welcome, Pat Two" in patient.inner_text("h1")
        patient.fill("#email", "pat.two@example.org")
        patient.fill("#new_password", PATIENT_PASSWORD)
        patient.fill("#confirm", PATIENT_PASSWORD)
        patient.click("button:has-text('Create my account')")
        patient.wait_for_url("**/me")

        # Signing out and in again with the chosen password.
        patient.click("button:has-text('Sign out')")
        patient.wait_for_url("**/login")
        sign_in(patient, server.url, "pat.two@example.org", PATIENT_PASSWORD)
        assert patient.url.endswith("/me")
        assert "Your treatment photos" in patient.inner_text("h1")
        assert "Erbium (Er:YAG): cheeks" in patient.inner_text("main")
        patient.wait_for_function(
            "() => Array.from(document.querySelectorAll('a.thumb img')).some(i => i.complete && i.naturalWidth > 0)")
        assert patient.locator("a.thumb").count() == 1
        screenshot(patient, "patient-gallery")
        patient.click("a.thumb")
        patient.wait_for_function("() => { const i = document.querySelector('.photo-main img');"
                                  " return i && i.complete && i.naturalWidth > 0; }")
        assert f"/me/photos/{server.pat_two_photo_id}" in patient.url

        # Another patient's photo is out of reach whichever URL is tried.
        for path, status in ((f"/me/photos/{server.other_photo_id}", 404),
                             (f"/media/{server.other_photo_id}/display.jpg", 404),
                             (f"/media/{server.other_photo_id}/thumb.jpg", 404),
                             (f"/photos/{server.other_photo_id}", 403)):
            response = patient.goto(server.url + path)
            assert response.status == status, path
        # The invitation link is used up.
        response = patient.goto(link)
        assert response.status == 410 and "already been used" in patient.inner_text("main")
    finally:
        context.close()
