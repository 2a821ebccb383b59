"""Representative view models of every screen (the gallery, `myna-reader screens`, tests).

`GALLERY` holds one view per screen id, the fullest state of each (the one that has to fit
the most); `VARIANTS` adds the other states the tests render at every size.
"""

from __future__ import annotations

import time
from datetime import date

from myna_reader.daemon.engine import (
    ALL_CODES,
    DEFAULT_CONSENT_PAGES,
    CertificateLife,
    ConsentItem,
    ConsentView,
    Countdown,
    DoneView,
    Ending,
    EndReason,
    ErrorView,
    FacePrompt,
    MethodView,
    Mode,
    NoReaderView,
    PinView,
    PrescriptionView,
    ReadingView,
    Screen,
    Sound,
    StaffLockedView,
    StaffPasscodeView,
    StaffStandbyView,
    StandbyView,
    TechnicianCodeView,
    TechnicianLockedView,
    TechnicianUnsetView,
    TechnicianView,
    TokenKind,
    View,
)

# the lock screen says the end of the lock in the reader's local time: a lock that ends at
# 14:32 there, whatever time zone renders the gallery, so the gallery does not change
SAMPLE_LOCK_UNTIL = time.mktime((2026, 6, 1, 14, 32, 0, 0, 0, -1))
_LAST_PAGE = DEFAULT_CONSENT_PAGES[-1]

GALLERY: dict[Screen, View] = {
    Screen.NO_READER: NoReaderView(),
    Screen.STANDBY: StandbyView(staff_button=True),
    Screen.READING: ReadingView(),
    Screen.METHOD: MethodView(face=True, pin=True),
    Screen.PIN: PinView(digits=4, tries_left=2, wrong=True, back_button=True),  # 決定 enabled
    Screen.STAFF_PASSCODE: StaffPasscodeView(digits=4, wrong=True, failures_left=3),
    Screen.STAFF_LOCKED: StaffLockedView(locked_until_wall=SAMPLE_LOCK_UNTIL),
    Screen.STAFF_STANDBY: StaffStandbyView(mode=Mode.STAFF),
    # staff mode past page 1: every button (中止, 戻る, 同意しない, 同意する)
    Screen.CONSENT: ConsentView(mode=Mode.STAFF, page_index=len(DEFAULT_CONSENT_PAGES) - 1,
                                page_count=len(DEFAULT_CONSENT_PAGES), page_id=_LAST_PAGE.id,
                                items=_LAST_PAGE.items, back_button=True),
    Screen.PRESCRIPTION: PrescriptionView(back_button=True),
    # 資格情報のみ: the longest notice, after the confirmation
    Screen.DONE: DoneView(remove_card=True, certificate_life=CertificateLife.GRACE,
                          certificate_expiry=date(2026, 5, 17), grace_until=date(2026, 8, 31)),
    Screen.ERROR: ErrorView(code="006", ask_staff=True),
    Screen.TECHNICIAN: TechnicianView(reader="Virtual PCD 00 00", passcode_provisioned=True),
    Screen.TECHNICIAN_CODE: TechnicianCodeView(digits=2, wrong=True, failures_left=3),
    Screen.TECHNICIAN_LOCKED: TechnicianLockedView(locked_until_wall=SAMPLE_LOCK_UNTIL),
    Screen.TECHNICIAN_UNSET: TechnicianUnsetView(),
}

VARIANTS: tuple[View, ...] = (
    StandbyView(),
    StandbyView(remove_card=True, staff_button=True),
    ReadingView(mode=Mode.STAFF),
    *(ReadingView(face_prompt=prompt) for prompt in FacePrompt),
    MethodView(face=True, pin=True, face_failed=True),
    MethodView(face=False, pin=True, face_failed=True),
    PinView(digits=0, tries_left=3),
    PinView(digits=4, tries_left=1, one_try_left=True, wrong=True, back_button=True),
    StaffPasscodeView(digits=4, checking=True),
    StaffPasscodeView(),
    StaffLockedView(),
    StaffStandbyView(mode=Mode.STAFF, remove_card=True),
    *(ConsentView(mode=mode, page_index=i, page_count=len(DEFAULT_CONSENT_PAGES),
                  page_id=page.id, items=page.items, back_button=i > 0)
      for i, page in enumerate(DEFAULT_CONSENT_PAGES) for mode in Mode),
    DoneView(remove_card=False),
    DoneView(mode=Mode.STAFF),
    DoneView(remove_card=False, certificate_life=CertificateLife.EXPIRING,
             certificate_expiry=date(2026, 5, 17)),
    ReadingView(token=TokenKind.IPHONE),
    PinView(digits=2, tries_left=3, token=TokenKind.ANDROID),
    PrescriptionView(mode=Mode.STAFF),
    ConsentView(page_index=0, page_count=1, page_id="clinical-records",
                items=(ConsentItem.CLINICAL_RECORDS,)),
    ErrorView(code="006", ask_staff=True, token=TokenKind.ANDROID),
    *(ErrorView(code=code.code, ask_staff=code.ask_staff) for code in ALL_CODES),
    ErrorView(code="999"),
    TechnicianView(),
    TechnicianView(reader="Sony RC-S380 (nfc:usb)", passcode_provisioned=True,
                   staff_locked=True, sound=Sound(False, 30)),
    TechnicianCodeView(digits=4, checking=True),
    TechnicianCodeView(),
    TechnicianLockedView(),
    # issue 14: a deadline's countdown, why the last screen ended, the terminal away
    PinView(digits=2, tries_left=3, countdown=Countdown(15)),
    ConsentView(page_index=0, page_count=len(DEFAULT_CONSENT_PAGES),
                page_id=DEFAULT_CONSENT_PAGES[0].id, items=DEFAULT_CONSENT_PAGES[0].items,
                countdown=Countdown(3)),
    *(StandbyView(staff_button=True, ended=Ending(EndReason.TIMEOUT, screen))
      for screen in (Screen.METHOD, Screen.PIN, Screen.CONSENT, Screen.PRESCRIPTION,
                     Screen.STAFF_PASSCODE, Screen.TECHNICIAN, Screen.TECHNICIAN_CODE)),
    StandbyView(ended=Ending(EndReason.IDLE, Screen.STAFF_STANDBY)),
    StandbyView(staff_button=True, terminal_away=True),
    StaffStandbyView(mode=Mode.STAFF, terminal_away=True),
    TechnicianView(reader="Virtual PCD 00 00", terminal_away=True,
                   countdown=Countdown(12)),
)

ALL_VIEWS: tuple[View, ...] = (*GALLERY.values(), *VARIANTS)
