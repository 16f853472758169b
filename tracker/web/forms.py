"""Flask-WTF forms (CSRF included). They parse and check shapes; services check meaning."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectChoice,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.models import vocabulary as vocab
from tracker.services.accounts import MIN_PASSWORD_LENGTH


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(str(k), v) for k, v in mapping.items()]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])


class NewPasswordMixin:
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH,
                                                           message=f"At least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])


class AcceptInvitationForm(FlaskForm):
    email = EmailField("Your email (you sign in with it)", validators=[DataRequired(), Length(max=254)])
    new_password = PasswordField(
        "Choose a password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH,
                                                               message=f"At least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")])


class PatientForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    date_of_birth = DateField("Date of birth", validators=[InputRequired(message="Enter the date of birth.")])
    fitzpatrick = SelectField("Fitzpatrick skin type", coerce=int,
                              choices=[SelectChoice(k, v) for k, v in vocab.FITZPATRICK.items()])
    concerns = MultiCheckboxField("Concerns", choices=_choices(vocab.CONCERNS))
    concerns_notes = TextAreaField("Notes on the concerns", validators=[Optional(), Length(max=2000)])
    email = EmailField("Email (optional, for the patient's sign-in)", validators=[Optional(), Length(max=254)])
    photography_consent_on = DateField("Clinical photography consent given on (leave empty if not given)",
                                       validators=[Optional()])


class ConsentForm(FlaskForm):
    kind = SelectField("Consent", choices=_choices(vocab.CONSENT_KINDS))
    # Entered, not pre-filled: the date the patient signed is a fact the technician types.
    on = DateField("Date", validators=[InputRequired()])


class SeriesForm(FlaskForm):
    treatment_type = SelectField("Treatment", choices=_choices(vocab.TREATMENT_TYPES))
    treated_areas = MultiCheckboxField("Treated areas", choices=_choices(vocab.TREATED_AREAS), default=["full_face"])
    planned_sessions = IntegerField("Planned sessions", default=vocab.DEFAULT_PLANNED_SESSIONS,
                                    validators=[InputRequired(), NumberRange(1, 12)])
    interval_days = IntegerField("Days between sessions", default=vocab.DEFAULT_INTERVAL_DAYS,
                                 validators=[InputRequired(), NumberRange(7, 730)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])


class VisitForm(FlaskForm):
    kind = SelectField("Visit", choices=_choices(vocab.VISIT_KINDS))
    visit_date = DateField("Date", default=dt.date.today, validators=[InputRequired()])
    technician_id = SelectField("Treating technician", choices=[], validate_choice=False)
    device = StringField("Device", validators=[Optional(), Length(max=200)])
    energy_mj = FloatField("Energy (mJ)", validators=[Optional(), NumberRange(0, 1000)])
    fluence_j_cm2 = FloatField("Fluence (J/cm²)", validators=[Optional(), NumberRange(0, 1000)])
    density_pct = FloatField("Density / coverage (%)", validators=[Optional(), NumberRange(0, 100)])
    passes = IntegerField("Passes", validators=[Optional(), NumberRange(0, 50)])
    spot_size_mm = FloatField("Spot size (mm)", validators=[Optional(), NumberRange(0, 100)])
    anaesthesia = SelectField("Anaesthesia", choices=_choices(vocab.ANAESTHESIA))
    complications = MultiCheckboxField("Complications", choices=_choices(vocab.COMPLICATIONS))
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])


class RetagForm(FlaskForm):
    visit_id = SelectField("Visit", choices=[], validate_choice=False)
    view = SelectField("View", choices=_choices(vocab.VIEWS))
    region = StringField("Close-up region", validators=[Optional(), Length(max=80)])
    time_point = SelectField("Time point", choices=_choices(vocab.TIME_POINTS))
    days_after = IntegerField("Days after treatment", validators=[Optional(), NumberRange(0, 3650)])
    reason = StringField("Reason (recorded)", validators=[Optional(), Length(max=500)])


class DeletePhotoForm(FlaskForm):
    # Its own id: the re-tag form on the same page has a "reason" field too.
    reason = StringField("Reason (recorded)", id="delete-reason",
                         validators=[DataRequired(message="Say why the photo is deleted."), Length(max=500)])


class StaffForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice(vocab.TECHNICIAN, "Technician"),
                                       SelectChoice(vocab.CLINIC_ADMIN, "Clinic admin")])
