//! Writing netCDF-4 files with groups, dimensions, coordinate variables and
//! attributes through GDAL's multidimensional API (the `gdal` crate reads it
//! but cannot create it yet). Used for the demo archive's S3/S5P/CAMS/CMEMS/CGLS
//! products and for saving clipped swaths.
//!
//! A variable named like its dimension becomes the dimension's coordinate
//! variable, as netCDF conventions want:
//!
//! ```no_run
//! # use cleope_eo::netcdf::{NcWriter, Attr};
//! let nc = NcWriter::create(std::path::Path::new("/tmp/sst.nc")).unwrap();
//! {
//!     // Groups and dimensions borrow the file: they end before it closes.
//!     let root = nc.root();
//!     let lat = root.dimension("lat", 2).unwrap();
//!     let lon = root.dimension("lon", 3).unwrap();
//!     root.write("lat", &[&lat], &[45.0f32, 46.0], &[Attr::str("units", "degrees_north")]).unwrap();
//!     root.write("lon", &[&lon], &[10.0f32, 11.0, 12.0], &[Attr::str("units", "degrees_east")]).unwrap();
//!     root.write("sst", &[&lat, &lon], &[290.0f32; 6], &[Attr::str("units", "K")]).unwrap();
//! }
//! nc.close().unwrap();
//! ```

pub mod cf;

use std::ffi::{CString, c_void};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::ptr;

use gdal_sys::{GDALDataType, GDALDatasetH, GDALDimensionH, GDALGroupH};

/// A failure to write a netCDF file: which file and what GDAL said.
#[derive(Debug, thiserror::Error)]
#[error("cannot write netCDF {path}: {what}")]
pub struct NcError {
    /// The file being written.
    pub path: PathBuf,
    /// What went wrong (GDAL's last error message when there is one).
    pub what: String,
}

/// A value type a netCDF variable can hold.
pub trait NcType: Copy {
    /// GDAL's type code for it.
    const GDAL: GDALDataType::Type;
}

impl NcType for f32 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Float32;
}
impl NcType for f64 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Float64;
}
impl NcType for i32 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Int32;
}
impl NcType for i16 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Int16;
}
impl NcType for u16 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_UInt16;
}
impl NcType for u8 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Byte;
}
impl NcType for u32 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_UInt32;
}
impl NcType for u64 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_UInt64;
}
impl NcType for i64 {
    const GDAL: GDALDataType::Type = GDALDataType::GDT_Int64;
}

/// An attribute of a group or a variable.
#[derive(Debug, Clone)]
pub enum Attr {
    /// A text attribute.
    Str(String, String),
    /// A floating-point attribute (stored as double).
    F64(String, f64),
    /// An integer attribute.
    I32(String, i32),
    /// An array of doubles (e.g. `valid_range`).
    F64s(String, Vec<f64>),
    /// An array of unsigned integers `bits` wide (8, 16, 32 or 64), e.g. the
    /// `flag_masks` of a flag variable, which take the variable's own type.
    Unsigned(String, Vec<u64>, u8),
}

impl Attr {
    /// A text attribute.
    pub fn str(name: &str, value: &str) -> Attr {
        Attr::Str(name.into(), value.into())
    }
    /// A floating-point attribute.
    pub fn f64(name: &str, value: f64) -> Attr {
        Attr::F64(name.into(), value)
    }
    /// An integer attribute.
    pub fn i32(name: &str, value: i32) -> Attr {
        Attr::I32(name.into(), value)
    }
    /// An array-of-doubles attribute.
    pub fn f64s(name: &str, values: &[f64]) -> Attr {
        Attr::F64s(name.into(), values.to_vec())
    }
    /// An array of unsigned 8-bit integers.
    pub fn u8s(name: &str, values: &[u8]) -> Attr {
        Attr::Unsigned(name.into(), values.iter().map(|&v| v.into()).collect(), 8)
    }
    /// An array of unsigned 16-bit integers.
    pub fn u16s(name: &str, values: &[u16]) -> Attr {
        Attr::Unsigned(name.into(), values.iter().map(|&v| v.into()).collect(), 16)
    }
    /// An array of unsigned 32-bit integers.
    pub fn u32s(name: &str, values: &[u32]) -> Attr {
        Attr::Unsigned(name.into(), values.iter().map(|&v| v.into()).collect(), 32)
    }
    /// An array of unsigned 64-bit integers.
    pub fn u64s(name: &str, values: &[u64]) -> Attr {
        Attr::Unsigned(name.into(), values.to_vec(), 64)
    }
}

/// A netCDF-4 file open for writing. Call [`NcWriter::close`] to flush it.
pub struct NcWriter {
    dataset: GDALDatasetH,
    root: GDALGroupH,
    path: PathBuf,
}

// SAFETY: the handles are used from one thread at a time (the writer is not Sync).
unsafe impl Send for NcWriter {}

/// A dimension, kept alive while variables are created over it.
pub struct NcDim<'a> {
    handle: GDALDimensionH,
    _writer: PhantomData<&'a NcWriter>,
}

impl Drop for NcDim<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle came from GDALGroupCreateDimension and is released once.
        unsafe { gdal_sys::GDALDimensionRelease(self.handle) }
    }
}

/// A group of a file being written (the root group or a subgroup such as
/// Sentinel-5P's `PRODUCT`).
pub struct NcGroup<'a> {
    handle: GDALGroupH,
    path: &'a Path,
    owned: bool,
}

impl Drop for NcGroup<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: subgroup handles come from GDALGroupCreateGroup and are released once.
            unsafe { gdal_sys::GDALGroupRelease(self.handle) }
        }
    }
}

fn c_string(text: &str, path: &Path) -> Result<CString, NcError> {
    CString::new(text).map_err(|_| NcError {
        path: path.to_path_buf(),
        what: format!("the name {text:?} contains a NUL byte"),
    })
}

fn gdal_error(path: &Path, doing: &str) -> NcError {
    // SAFETY: CPLGetLastErrorMsg returns a valid NUL-terminated string owned by GDAL.
    let message = unsafe { std::ffi::CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) }
        .to_string_lossy()
        .into_owned();
    NcError {
        path: path.to_path_buf(),
        what: if message.is_empty() {
            doing.to_string()
        } else {
            format!("{doing}: {message}")
        },
    }
}

/// A NULL-terminated list of C strings, as GDAL's option arguments want.
struct Options {
    _strings: Vec<CString>,
    pointers: Vec<*const std::ffi::c_char>,
}

impl Options {
    fn new(items: &[&str]) -> Options {
        let strings: Vec<CString> = items.iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut pointers: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(ptr::null());
        Options {
            _strings: strings,
            pointers,
        }
    }

    fn as_ptr(&self) -> *mut *mut std::ffi::c_char {
        self.pointers.as_ptr() as *mut *mut std::ffi::c_char
    }
}

impl NcWriter {
    /// Creates (or replaces) a netCDF-4 file.
    pub fn create(path: &Path) -> Result<NcWriter, NcError> {
        let driver_name = c_string("netCDF", path)?;
        let file_name = c_string(&path.to_string_lossy(), path)?;
        let options = Options::new(&["FORMAT=NC4"]);
        // Loads GDAL and registers the drivers cleope keeps, if nothing did yet.
        crate::gdal::library::ensure_loaded().map_err(|e| NcError {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        // SAFETY: plain GDAL calls with valid NUL-terminated strings; null results are checked.
        unsafe {
            let driver = gdal_sys::GDALGetDriverByName(driver_name.as_ptr());
            if driver.is_null() {
                return Err(gdal_error(path, "GDAL has no netCDF driver"));
            }
            let dataset = gdal_sys::GDALCreateMultiDimensional(
                driver,
                file_name.as_ptr(),
                ptr::null_mut(),
                options.as_ptr(),
            );
            if dataset.is_null() {
                return Err(gdal_error(path, "cannot create the file"));
            }
            let root = gdal_sys::GDALDatasetGetRootGroup(dataset);
            if root.is_null() {
                gdal_sys::GDALClose(dataset);
                return Err(gdal_error(path, "the file has no root group"));
            }
            Ok(NcWriter {
                dataset,
                root,
                path: path.to_path_buf(),
            })
        }
    }

    /// The root group.
    pub fn root(&self) -> NcGroup<'_> {
        NcGroup {
            handle: self.root,
            path: &self.path,
            owned: false,
        }
    }

    /// Flushes and closes the file.
    pub fn close(mut self) -> Result<(), NcError> {
        self.release();
        Ok(())
    }

    fn release(&mut self) {
        if !self.dataset.is_null() {
            // SAFETY: both handles are valid and released exactly once (nulled after).
            unsafe {
                gdal_sys::GDALGroupRelease(self.root);
                gdal_sys::GDALClose(self.dataset);
            }
            self.dataset = ptr::null_mut();
            self.root = ptr::null_mut();
        }
    }
}

impl Drop for NcWriter {
    fn drop(&mut self) {
        self.release();
    }
}

impl<'a> NcGroup<'a> {
    /// Creates a subgroup (netCDF-4 groups, e.g. Sentinel-5P's `PRODUCT`).
    pub fn group(&self, name: &str) -> Result<NcGroup<'a>, NcError> {
        let c_name = c_string(name, self.path)?;
        // SAFETY: valid group handle and name; null is checked.
        let handle = unsafe {
            gdal_sys::GDALGroupCreateGroup(self.handle, c_name.as_ptr(), ptr::null_mut())
        };
        if handle.is_null() {
            return Err(gdal_error(
                self.path,
                &format!("cannot create group {name}"),
            ));
        }
        Ok(NcGroup {
            handle,
            path: self.path,
            owned: true,
        })
    }

    /// Creates a dimension of `size` elements.
    pub fn dimension(&self, name: &str, size: usize) -> Result<NcDim<'a>, NcError> {
        let c_name = c_string(name, self.path)?;
        // SAFETY: valid group handle and name; null is checked.
        let handle = unsafe {
            gdal_sys::GDALGroupCreateDimension(
                self.handle,
                c_name.as_ptr(),
                ptr::null(),
                ptr::null(),
                size as u64,
                ptr::null_mut(),
            )
        };
        if handle.is_null() {
            return Err(gdal_error(
                self.path,
                &format!("cannot create dimension {name}"),
            ));
        }
        Ok(NcDim {
            handle,
            _writer: PhantomData,
        })
    }

    /// Writes a group attribute (a global attribute on the root group).
    pub fn attribute(&self, attr: &Attr) -> Result<(), NcError> {
        write_attribute(self.path, attr, |name, n, dims_ptr, edt| {
            // SAFETY: valid handles; GDAL copies the dimension array.
            unsafe {
                gdal_sys::GDALGroupCreateAttribute(
                    self.handle,
                    name,
                    n,
                    dims_ptr,
                    edt,
                    ptr::null_mut(),
                )
            }
        })
    }

    /// Creates variable `name` over `dims` (outermost first), writes `data`
    /// (row-major, its length the product of the dimension sizes) compressed
    /// with DEFLATE, and attaches `attrs`. `_FillValue` is set through GDAL's
    /// no-data call so it has the variable's own type.
    pub fn write<T: NcType>(
        &self,
        name: &str,
        dims: &[&NcDim<'_>],
        data: &[T],
        attrs: &[Attr],
    ) -> Result<(), NcError> {
        let sizes: Vec<usize> = dims
            .iter()
            // SAFETY: valid dimension handles.
            .map(|d| unsafe { gdal_sys::GDALDimensionGetSize(d.handle) } as usize)
            .collect();
        let expected: usize = sizes.iter().product();
        if expected != data.len() {
            return Err(NcError {
                path: self.path.to_path_buf(),
                what: format!(
                    "variable {name} has {} values for dimensions {sizes:?} ({expected} expected)",
                    data.len()
                ),
            });
        }
        let c_name = c_string(name, self.path)?;
        let mut handles: Vec<GDALDimensionH> = dims.iter().map(|d| d.handle).collect();
        let options = if dims.is_empty() {
            Options::new(&[])
        } else {
            Options::new(&["COMPRESS=DEFLATE", "ZLEVEL=4"])
        };
        // SAFETY: valid handles; buffers outlive the calls; every created handle is released.
        unsafe {
            let edt = gdal_sys::GDALExtendedDataTypeCreate(T::GDAL);
            let array = gdal_sys::GDALGroupCreateMDArray(
                self.handle,
                c_name.as_ptr(),
                handles.len(),
                handles.as_mut_ptr(),
                edt,
                options.as_ptr(),
            );
            if array.is_null() {
                gdal_sys::GDALExtendedDataTypeRelease(edt);
                return Err(gdal_error(
                    self.path,
                    &format!("cannot create variable {name}"),
                ));
            }
            let result = self.fill_array(array, name, &sizes, data, edt, attrs);
            gdal_sys::GDALMDArrayRelease(array);
            gdal_sys::GDALExtendedDataTypeRelease(edt);
            result
        }
    }

    /// Attributes first (so `_FillValue` precedes the data, as netCDF needs), then the values.
    unsafe fn fill_array<T: NcType>(
        &self,
        array: gdal_sys::GDALMDArrayH,
        name: &str,
        sizes: &[usize],
        data: &[T],
        edt: gdal_sys::GDALExtendedDataTypeH,
        attrs: &[Attr],
    ) -> Result<(), NcError> {
        for attr in attrs {
            match attr {
                Attr::F64(key, value) if key == "_FillValue" => {
                    // SAFETY: valid array handle.
                    if unsafe { gdal_sys::GDALMDArraySetNoDataValueAsDouble(array, *value) } == 0 {
                        return Err(gdal_error(
                            self.path,
                            &format!("cannot set {name}:_FillValue"),
                        ));
                    }
                }
                _ => write_attribute(self.path, attr, |attr_name, n, dims_ptr, attr_edt| {
                    // SAFETY: valid array handle; GDAL copies the dimension array.
                    unsafe {
                        gdal_sys::GDALMDArrayCreateAttribute(
                            array,
                            attr_name,
                            n,
                            dims_ptr,
                            attr_edt,
                            ptr::null_mut(),
                        )
                    }
                })?,
            }
        }
        let start = vec![0u64; sizes.len()];
        // SAFETY: `data` holds exactly product(sizes) values of type T, described by `edt`.
        let ok = unsafe {
            gdal_sys::GDALMDArrayWrite(
                array,
                start.as_ptr(),
                sizes.as_ptr(),
                ptr::null(),
                ptr::null(),
                edt,
                data.as_ptr() as *const c_void,
                data.as_ptr() as *const c_void,
                std::mem::size_of_val(data),
            )
        };
        if ok == 0 {
            return Err(gdal_error(
                self.path,
                &format!("cannot write variable {name}"),
            ));
        }
        Ok(())
    }
}

/// Creates an attribute with `create(name, dimension count, dimension sizes,
/// type)` (a scalar, or a 1-D array for [`Attr::F64s`]) and writes its value.
fn write_attribute(
    path: &Path,
    attr: &Attr,
    create: impl FnOnce(
        *const std::ffi::c_char,
        usize,
        *const u64,
        gdal_sys::GDALExtendedDataTypeH,
    ) -> gdal_sys::GDALAttributeH,
) -> Result<(), NcError> {
    let (name, count, edt) = match attr {
        // SAFETY: creating extended data types has no preconditions.
        Attr::Str(name, _) => (name, 0, unsafe {
            gdal_sys::GDALExtendedDataTypeCreateString(0)
        }),
        Attr::F64(name, _) => (name, 0, unsafe {
            gdal_sys::GDALExtendedDataTypeCreate(GDALDataType::GDT_Float64)
        }),
        Attr::I32(name, _) => (name, 0, unsafe {
            gdal_sys::GDALExtendedDataTypeCreate(GDALDataType::GDT_Int32)
        }),
        Attr::F64s(name, values) => (name, values.len(), unsafe {
            gdal_sys::GDALExtendedDataTypeCreate(GDALDataType::GDT_Float64)
        }),
        Attr::Unsigned(name, values, bits) => (name, values.len(), unsafe {
            gdal_sys::GDALExtendedDataTypeCreate(match bits {
                8 => GDALDataType::GDT_Byte,
                16 => GDALDataType::GDT_UInt16,
                32 => GDALDataType::GDT_UInt32,
                _ => GDALDataType::GDT_UInt64,
            })
        }),
    };
    let c_name = c_string(name, path)?;
    let sizes = [count as u64];
    let handle = if count == 0 {
        create(c_name.as_ptr(), 0, ptr::null(), edt)
    } else {
        create(c_name.as_ptr(), 1, sizes.as_ptr(), edt)
    };
    // SAFETY: edt was created above and is released once; handle is null-checked.
    unsafe { gdal_sys::GDALExtendedDataTypeRelease(edt) };
    if handle.is_null() {
        return Err(gdal_error(path, &format!("cannot create attribute {name}")));
    }
    // SAFETY: valid attribute handle; values outlive the calls.
    let ok = unsafe {
        match attr {
            Attr::Str(_, value) => {
                let text = c_string(value, path)?;
                gdal_sys::GDALAttributeWriteString(handle, text.as_ptr())
            }
            Attr::F64(_, value) => gdal_sys::GDALAttributeWriteDouble(handle, *value),
            Attr::I32(_, value) => gdal_sys::GDALAttributeWriteInt(handle, *value),
            Attr::F64s(_, values) => {
                gdal_sys::GDALAttributeWriteDoubleArray(handle, values.as_ptr(), values.len())
            }
            Attr::Unsigned(_, values, bits) => write_unsigned(handle, values, *bits),
        }
    };
    // SAFETY: released once.
    unsafe { gdal_sys::GDALAttributeRelease(handle) };
    if ok == 0 {
        return Err(gdal_error(path, &format!("cannot write attribute {name}")));
    }
    Ok(())
}

/// Writes unsigned integers: up to 32 bits as doubles (exact, and GDAL
/// converts them to whatever type the driver gave the attribute: netCDF
/// has no unsigned byte attribute in GDAL's view), 64-bit words raw, since
/// doubles cannot hold them all.
///
/// # Safety
/// `handle` must be a valid attribute of `values.len()` elements, of
/// unsigned 64-bit integers when `bits` is 64.
unsafe fn write_unsigned(handle: gdal_sys::GDALAttributeH, values: &[u64], bits: u8) -> i32 {
    if bits == 64 {
        // SAFETY: the buffer holds exactly the attribute's elements in its type.
        unsafe {
            gdal_sys::GDALAttributeWriteRaw(
                handle,
                values.as_ptr() as *const c_void,
                std::mem::size_of_val(values),
            )
        }
    } else {
        let doubles: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        // SAFETY: valid attribute handle; GDAL converts each double.
        unsafe { gdal_sys::GDALAttributeWriteDoubleArray(handle, doubles.as_ptr(), doubles.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_groups_coordinates_and_attributes_that_gdal_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s5p.nc");
        let nc = NcWriter::create(&path).unwrap();
        let root = nc.root();
        root.attribute(&Attr::str("time_coverage_start", "2020-02-01T11:00:00Z"))
            .unwrap();
        let product = root.group("PRODUCT").unwrap();
        let scanline = product.dimension("scanline", 2).unwrap();
        let pixel = product.dimension("ground_pixel", 3).unwrap();
        product
            .write(
                "no2",
                &[&scanline, &pixel],
                &[1.0f32, 2.0, 3.0, 4.0, 5.0, f32::NAN],
                &[
                    Attr::str("units", "mol m-2"),
                    Attr::f64(
                        "multiplication_factor_to_convert_to_molecules_percm2",
                        6.02214e19,
                    ),
                    Attr::f64("_FillValue", 9.96921e36),
                ],
            )
            .unwrap();
        drop((scanline, pixel, product, root));
        nc.close().unwrap();

        let options = gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        let ds = crate::gdal::dataset::open_ex(&path, options).unwrap();
        let root = ds.root_group().unwrap();
        let start = root.attribute("time_coverage_start").unwrap();
        assert_eq!(start.read_as_string(), "2020-02-01T11:00:00Z");
        let group = root.open_group("PRODUCT", Default::default()).unwrap();
        let no2 = group.open_md_array("no2", Default::default()).unwrap();
        let values = no2.read_as::<f32>(vec![0, 0], vec![2, 3]).unwrap();
        assert_eq!(&values[..5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(values[5].is_nan(), "NaN is kept as NaN, not the fill value");
        assert_eq!(no2.no_data_value_as_double(), Some(9.96921e36f32 as f64));
        let factor = no2
            .attribute("multiplication_factor_to_convert_to_molecules_percm2")
            .unwrap()
            .read_as_f64();
        assert_eq!(factor, 6.02214e19);
    }

    #[test]
    fn writes_unsigned_flag_words_with_their_masks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wqsf.nc");
        let nc = NcWriter::create(&path).unwrap();
        let root = nc.root();
        let rows = root.dimension("rows", 1).unwrap();
        let columns = root.dimension("columns", 2).unwrap();
        let high_bit = 1u64 << 40;
        root.write(
            "WQSF",
            &[&rows, &columns],
            &[high_bit | 2, 4u64],
            &[
                Attr::u64s("flag_masks", &[2, 4, high_bit]),
                Attr::str("flag_meanings", "WATER LAND FAR"),
            ],
        )
        .unwrap();
        root.write(
            "LQSF",
            &[&rows, &columns],
            &[1u32, u32::MAX],
            &[Attr::u32s("flag_masks", &[1, 1 << 31])],
        )
        .unwrap();
        drop((rows, columns, root));
        nc.close().unwrap();

        let options = gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        let ds = crate::gdal::dataset::open_ex(&path, options).unwrap();
        let root = ds.root_group().unwrap();
        let wqsf = root.open_md_array("WQSF", Default::default()).unwrap();
        assert_eq!(
            wqsf.read_as::<u64>(vec![0, 0], vec![1, 2]).unwrap(),
            vec![high_bit | 2, 4]
        );
        let masks = wqsf.attribute("flag_masks").unwrap();
        assert_eq!(
            masks.datatype().numeric_datatype(),
            GDALDataType::GDT_UInt64
        );
        assert_eq!(masks.read_as_f64_array(), vec![2.0, 4.0, high_bit as f64]);
        let lqsf = root.open_md_array("LQSF", Default::default()).unwrap();
        assert_eq!(
            lqsf.read_as::<u32>(vec![0, 0], vec![1, 2]).unwrap(),
            vec![1, u32::MAX]
        );
        let masks = lqsf.attribute("flag_masks").unwrap();
        assert_eq!(
            masks.datatype().numeric_datatype(),
            GDALDataType::GDT_UInt32
        );
        assert_eq!(masks.read_as_f64_array(), vec![1.0, 2147483648.0]);
    }

    #[test]
    fn refuses_data_whose_length_does_not_match_the_dimensions() {
        let dir = tempfile::tempdir().unwrap();
        let nc = NcWriter::create(&dir.path().join("x.nc")).unwrap();
        let root = nc.root();
        let x = root.dimension("x", 4).unwrap();
        let err = root.write("v", &[&x], &[1.0f32; 3], &[]).unwrap_err();
        assert!(err.to_string().contains("3 values"), "{err}");
    }
}
