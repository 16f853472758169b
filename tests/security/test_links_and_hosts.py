"""Links handed out (invitation link and QR code) come from TRACKER_PUBLIC_URL, never from
a Host header; a request naming a host the server does not know gets 400, never 500;
this machine's own names and addresses are trusted without configuration."""

from __future__ import annotations

import base64
import re

import pytest

from tests.web.conftest import build_app, dispose, signed_in
from tracker.config import local_host_names


def _invitation(client, patient_id, **kwargs):
    page = client.post(f"/patients/{patient_id}/invitations", **kwargs).get_data(as_text=True)
    link = re.search(r'id="invite-link" value="([^"]+)"', page).group(1)
    qr = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1))
    return link, qr


@pytest.mark.parametrize("path", ["/login", "/healthz", "/patients", "/invite/abc"])
def test_an_unknown_host_gets_400_not_a_page(clients, path):
    for client in (clients["anonymous"], clients["clinic_admin"]):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400


def test_an_invitation_cannot_be_pointed_at_another_host(clients, site):
    refused = clients["clinic_admin"].post(f"/patients/{site.other_patient_id}/invitations",
                                           headers={"Host": "evil.example"})
    assert refused.status_code == 400
    link, _ = _invitation(clients["clinic_admin"], site.other_patient_id)
    assert link.startswith("http://localhost/invite/")


def test_invitation_links_and_qr_codes_use_the_public_url(template, tmp_path):
    import shutil

    shutil.copytree(template.instance, tmp_path / "instance")
    app = build_app(tmp_path / "instance", WTF_CSRF_ENABLED=False, PUBLIC_URL="https://photos.clinic.example")
    try:
        admin = signed_in(app, template.cookies["clinic_admin"])
        link, qr = _invitation(admin, template.site.other_patient_id)
        assert link.startswith("https://photos.clinic.example/invite/")
        assert b"<svg" in qr
    finally:
        dispose(app)


def test_this_machines_own_addresses_are_trusted(clients):
    names = local_host_names()
    assert {"localhost", "127.0.0.1"} <= set(names)
    lan = [n for n in names if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", n) and not n.startswith("127.")]
    for host in ["127.0.0.1:5000", "localhost", *[f"{a}:5000" for a in lan]]:
        assert clients["anonymous"].get("/login", headers={"Host": host}).status_code == 200, host
