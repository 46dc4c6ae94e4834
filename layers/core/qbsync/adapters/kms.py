"""Envelope-free KMS encryption for small secrets (OAuth tokens are well under KMS's 4 KB limit).

The encryption context binds each ciphertext to its tenant: a ciphertext copied to another tenant's item
does not decrypt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsCipher:
    def __init__(self, client: KMSClient, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        response = self._client.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode("utf-8"), EncryptionContext=context
        )
        return response["CiphertextBlob"]

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        response = self._client.decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=context
        )
        return response["Plaintext"].decode("utf-8")
