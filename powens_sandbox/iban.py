"""French bank identifiers: RIB key and IBAN check digits, so generated IBANs pass real validators."""


def rib_key(bank_code: str, branch_code: str, account_number: str) -> int:
    return 97 - (89 * int(bank_code) + 15 * int(branch_code) + 3 * int(account_number)) % 97


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def french_iban(bank_code: str, branch_code: str, account_number: str) -> str:
    key = rib_key(bank_code, branch_code, account_number)
    bban = f"{bank_code}{branch_code}{account_number}{key:02d}"
    return "FR" + iban_check_digits("FR", bban) + bban
