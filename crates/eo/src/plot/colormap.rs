//! Colormaps by name, as CLEOPE's notebooks used them (matplotlib's names).
//! Each is a list of evenly spaced colour stops, linearly interpolated.

/// An RGB colour.
pub type Rgb = [u8; 3];

/// A named colour ramp.
#[derive(Debug, Clone, PartialEq)]
pub struct Colormap {
    pub name: String,
    stops: Vec<Rgb>,
}

const VIRIDIS: &[u32] = &[
    0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b,
    0xfde725,
];
const INFERNO: &[u32] = &[
    0x000004, 0x1b0c41, 0x4a0c6b, 0x781c6d, 0xa52c60, 0xcf4446, 0xed6925, 0xfb9b06, 0xf7d13d,
    0xfcffa4,
];
const PLASMA: &[u32] = &[
    0x0d0887, 0x46039f, 0x7201a8, 0x9c179e, 0xbd3786, 0xd8576b, 0xed7953, 0xfb9f3a, 0xfdca26,
    0xf0f921,
];
const MAGMA: &[u32] = &[
    0x000004, 0x180f3d, 0x440f76, 0x721f81, 0x9e2f7f, 0xcd4071, 0xf1605d, 0xfd9668, 0xfeca8d,
    0xfcfdbf,
];
const RAINBOW: &[u32] = &[
    0x8000ff, 0x4062fa, 0x00b5eb, 0x40ecd4, 0x80ffb4, 0xc0eb8d, 0xffb360, 0xff6232, 0xff0000,
];
const SPECTRAL: &[u32] = &[
    0x9e0142, 0xd53e4f, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xe6f598, 0xabdda4, 0x66c2a5,
    0x3288bd, 0x5e4fa2,
];
const GIST_EARTH: &[u32] = &[
    0x000000, 0x1b2f76, 0x2d6a8a, 0x3d8f6e, 0x5a9f4e, 0x8cae4d, 0xb9b75e, 0xd1ab84, 0xe4c3b4,
    0xfdfbfb,
];
const TERRAIN: &[u32] = &[
    0x333399, 0x0294fa, 0x01cc66, 0x80e680, 0xfffe99, 0xbfa673, 0x806050, 0xbfb0ad, 0xffffff,
];
const COOLWARM: &[u32] = &[
    0x3b4cc0, 0x688aef, 0x99baff, 0xc9d8ef, 0xedd1c2, 0xf7a789, 0xe26a53, 0xb40426,
];
const ORRD: &[u32] = &[
    0xfff7ec, 0xfee8c8, 0xfdd49e, 0xfdbb84, 0xfc8d59, 0xef6548, 0xd7301f, 0xb30000, 0x7f0000,
];
const RDYLGN: &[u32] = &[
    0xa50026, 0xd73027, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xd9ef8b, 0xa6d96a, 0x66bd63,
    0x1a9850, 0x006837,
];
const GNBU: &[u32] = &[
    0xf7fcf0, 0xe0f3db, 0xccebc5, 0xa8ddb5, 0x7bccc4, 0x4eb3d3, 0x2b8cbe, 0x0868ac, 0x084081,
];
const CIVIDIS: &[u32] = &[
    0x00224e, 0x123570, 0x3b496c, 0x575d6d, 0x707173, 0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b,
    0xfee838,
];
/// ColorBrewer's red-blue, diverging through white (reversed: blue low).
const RDBU: &[u32] = &[
    0x67001f, 0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd1e5f0, 0x92c5de, 0x4393c3,
    0x2166ac, 0x053061,
];
/// The old MATLAB default: kept for scripts that ask for it by name, it
/// is not perceptually uniform (bands of yellow and cyan look like edges).
const JET: &[u32] = &[
    0x000080, 0x0000ff, 0x0080ff, 0x00ffff, 0x80ff80, 0xffff00, 0xff8000, 0xff0000, 0x800000,
];
const GRAY: &[u32] = &[0x000000, 0xffffff];

/// Every name [`Colormap::named`] knows; `_r` reverses any of them.
pub const NAMES: &[&str] = &[
    "viridis",
    "inferno",
    "plasma",
    "magma",
    "cividis",
    "RdBu",
    "rainbow",
    "jet",
    "Spectral",
    "gist_earth",
    "terrain",
    "coolwarm",
    "OrRd",
    "RdYlGn",
    "GnBu",
    "gray",
    "binary",
];

impl Colormap {
    /// The colormap called `name` (e.g. `"RdYlGn"`, `"Spectral_r"`, `"binary_r"`).
    pub fn named(name: &str) -> Option<Colormap> {
        let (base, reversed) = match name.strip_suffix("_r") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let table: Vec<u32> = match base {
            "viridis" => VIRIDIS.to_vec(),
            "inferno" => INFERNO.to_vec(),
            "plasma" => PLASMA.to_vec(),
            "magma" => MAGMA.to_vec(),
            "cividis" => CIVIDIS.to_vec(),
            "RdBu" => RDBU.to_vec(),
            "rainbow" => RAINBOW.to_vec(),
            "jet" => JET.to_vec(),
            "Spectral" => SPECTRAL.to_vec(),
            "gist_earth" => GIST_EARTH.to_vec(),
            "terrain" => TERRAIN.to_vec(),
            "coolwarm" => COOLWARM.to_vec(),
            "OrRd" => ORRD.to_vec(),
            "RdYlGn" => RDYLGN.to_vec(),
            "GnBu" => GNBU.to_vec(),
            "gray" | "grey" => GRAY.to_vec(),
            // matplotlib's "binary" runs from white to black.
            "binary" => GRAY.iter().rev().copied().collect(),
            _ => return None,
        };
        let mut stops: Vec<Rgb> = table
            .iter()
            .map(|&c| [(c >> 16) as u8, (c >> 8) as u8, c as u8])
            .collect();
        if reversed {
            stops.reverse();
        }
        Some(Colormap {
            name: name.to_string(),
            stops,
        })
    }

    /// The colour at `t` in [0, 1] (clamped).
    pub fn at(&self, t: f64) -> Rgb {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let scaled = t * (self.stops.len() - 1) as f64;
        let i = (scaled.floor() as usize).min(self.stops.len() - 2);
        let f = scaled - i as f64;
        let (a, b) = (self.stops[i], self.stops[i + 1]);
        std::array::from_fn(|k| {
            (f64::from(a[k]) + (f64::from(b[k]) - f64::from(a[k])) * f).round() as u8
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_reversal() {
        let viridis = Colormap::named("viridis").unwrap();
        assert_eq!(viridis.at(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(viridis.at(1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(
            Colormap::named("viridis_r").unwrap().at(0.0),
            [0xfd, 0xe7, 0x25]
        );
        assert_eq!(Colormap::named("binary_r").unwrap().at(0.0), [0, 0, 0]);
        assert_eq!(Colormap::named("gray").unwrap().at(0.5), [128, 128, 128]);
        assert!(Colormap::named("hsv").is_none());
        let diverging = Colormap::named("RdBu_r").unwrap();
        assert_eq!(diverging.at(0.5), [0xf7, 0xf7, 0xf7], "white at the centre");
        assert!(diverging.at(0.0)[2] > diverging.at(0.0)[0], "blue below");
    }

    #[test]
    fn every_listed_name_resolves() {
        for name in NAMES {
            assert!(
                Colormap::named(name).is_some() && Colormap::named(&format!("{name}_r")).is_some(),
                "{name}"
            );
        }
    }
}
