//! Just enough DER to read a PEM public key (`-----BEGIN PUBLIC KEY-----`,
//! a SubjectPublicKeyInfo, RFC 5280 section 4.1.2.7).
//!
//! The JWT library's own PEM support is not compiled in, and the keys an
//! issuer may hold are few: Ed25519, P-256, P-384 and RSA. Their algorithm
//! identifiers are fixed byte strings, so a key is recognised by comparing
//! bytes rather than by decoding object identifiers; anything else is
//! refused by name.

/// A public key read from a SubjectPublicKeyInfo, borrowed from its DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpkiKey<'a> {
    /// The 32-byte key.
    Ed25519(&'a [u8]),
    /// The uncompressed point, `04 || x || y`.
    P256(&'a [u8]),
    P384(&'a [u8]),
    /// Modulus and exponent, big-endian, without leading zeros.
    Rsa {
        n: &'a [u8],
        e: &'a [u8],
    },
}

/// `id-Ed25519` (RFC 8410), no parameters.
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `id-ecPublicKey` with the curve `prime256v1` (RFC 5480).
const P256: &[u8] = &[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07,
];
/// `id-ecPublicKey` with the curve `secp384r1`.
const P384: &[u8] = &[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
];
/// `rsaEncryption` with its NULL parameters (RFC 3279).
const RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const INTEGER: u8 = 0x02;

/// Reads a SubjectPublicKeyInfo; the error says what is wrong with it.
pub fn parse(der: &[u8]) -> Result<SpkiKey<'_>, &'static str> {
    let info = whole(der, SEQUENCE)?;
    let (algorithm, rest) = element(info, SEQUENCE)?;
    let bits = whole(rest, BIT_STRING)?;
    // A key is a whole number of bytes: no unused bits.
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err("malformed public key bits"),
    };
    match algorithm {
        ED25519 if key.len() == 32 => Ok(SpkiKey::Ed25519(key)),
        P256 if key.len() == 65 && key[0] == 0x04 => Ok(SpkiKey::P256(key)),
        P384 if key.len() == 97 && key[0] == 0x04 => Ok(SpkiKey::P384(key)),
        RSA => {
            let pair = whole(key, SEQUENCE)?;
            let (n, rest) = element(pair, INTEGER)?;
            let e = whole(rest, INTEGER)?;
            Ok(SpkiKey::Rsa {
                n: unsigned(n),
                e: unsigned(e),
            })
        }
        ED25519 | P256 | P384 => Err("public key of the wrong length"),
        _ => Err("not an Ed25519, P-256, P-384 or RSA public key"),
    }
}

/// The value of the one element of type `tag` that `input` consists of.
fn whole(input: &[u8], tag: u8) -> Result<&[u8], &'static str> {
    match element(input, tag)? {
        (value, []) => Ok(value),
        _ => Err("trailing bytes after the key"),
    }
}

/// The value of the element of type `tag` at the start of `input`, and
/// what follows it.
fn element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), &'static str> {
    const MALFORMED: &str = "malformed DER";
    let (&found, rest) = input.split_first().ok_or(MALFORMED)?;
    if found != tag {
        return Err(MALFORMED);
    }
    let (&first, rest) = rest.split_first().ok_or(MALFORMED)?;
    let (length, rest) = match (first, rest) {
        (0..=0x7f, _) => (usize::from(first), rest),
        // Long forms, in their shortest encoding as DER requires.
        (0x81, [length, rest @ ..]) if *length >= 0x80 => (usize::from(*length), rest),
        (0x82, [high, low, rest @ ..]) if *high != 0 => {
            (usize::from(*high) << 8 | usize::from(*low), rest)
        }
        // Longer than 64 KiB, or malformed: no public key this server takes.
        _ => return Err(MALFORMED),
    };
    if rest.len() < length {
        return Err(MALFORMED);
    }
    Ok(rest.split_at(length))
}

/// A DER INTEGER's bytes without the zero that keeps it positive.
fn unsigned(integer: &[u8]) -> &[u8] {
    match integer {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => integer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spki_of(key: &rcgen::KeyPair) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(key)
    }

    #[test]
    fn ed25519_and_ec_keys_made_by_rcgen_are_read() {
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let der = spki_of(&ed);
        assert_eq!(parse(&der), Ok(SpkiKey::Ed25519(ed.public_key_raw())));
        let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let der = spki_of(&p256);
        assert_eq!(parse(&der), Ok(SpkiKey::P256(p256.public_key_raw())));
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let der = spki_of(&p384);
        assert_eq!(parse(&der), Ok(SpkiKey::P384(p384.public_key_raw())));
    }

    #[test]
    fn truncated_padded_and_foreign_keys_are_refused() {
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let der = spki_of(&ed);
        for cut in 0..der.len() {
            assert!(parse(&der[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = der.clone();
        longer.push(0);
        assert!(parse(&longer).is_err());
        // Ed448's identifier (1.3.101.113) differs from Ed25519's by one byte.
        let mut ed448 = der;
        ed448[8] = 0x71;
        assert!(parse(&ed448).is_err());
    }
}
