"""Shortcuts the import takes for speed (issue 15) give the answers of the long way."""

from __future__ import annotations

import random


def test_a_key_skipped_as_too_long_for_a_phone_is_never_one_the_full_parse_accepts():
    import phonenumbers
    from phonenumbers import PhoneMetadata

    from loyaltycli.services import customers
    from loyaltycli.base.errors import LoyaltyError
    from loyaltycli.services.customers import _too_long_for_a_phone

    def valid(key, region):
        try:
            customers.normalize_phone(key, region)
        except LoyaltyError:
            return False
        return True

    rng = random.Random(15)
    skipped = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = str(PhoneMetadata.metadata_for_region(region).country_code)
        example = phonenumbers.example_number(region)
        if example is not None:  # the region's own numbers, written at home and with the country code
            national = str(example.national_number)
            for key in (national, "0" + national, code + national, "00" + code + national):
                assert not (_too_long_for_a_phone(key, region) and valid(key, region)), (region, key)
        for _ in range(40):
            prefix = rng.choice(["", "0", "00", code, "0" + code, code + "0", "1", "7", "011"])
            key = (prefix + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 18))))[:20]
            if _too_long_for_a_phone(key, region):
                skipped += 1
                assert not valid(key, region), (region, key)
    assert skipped > 1000  # the shortcut is taken (card numbers of 13 digits and more, mostly)
    assert _too_long_for_a_phone("7000000012345", "IE")  # the benchmark's card numbers
    assert not _too_long_for_a_phone("353851234567", "IE") and valid("353851234567", "IE")
