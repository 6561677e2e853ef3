//! The core's serde data as Python objects, built directly: what `json.loads` of the CLI's
//! `--format json` text gives (same keys in the same order, same numbers bit for bit), without
//! writing or parsing the text. A JSON number with a fraction or exponent is a `float`, an
//! integer an `int`; a non-finite float is `None`, as serde_json writes `null`; an enum is what
//! serde_json makes of it (a unit variant its name, others `{variant: value}`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use pyo3::IntoPyObjectExt;
use serde::ser::{self, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// `value` as Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let keys = Keys {
        py,
        cache: RefCell::new(HashMap::default()),
        texts: RefCell::new(HashMap::default()),
    };
    value.serialize(Objects::new(&keys)).map_err(|e| e.0)
}

/// Field names made Python strings once per conversion: a report repeats the same few dozen
/// keys in every operator of every layer (as `json.loads` memoises them). Keyed by where the
/// `&'static str` lives (a field name is one constant), so a lookup hashes no text.
struct Keys<'py> {
    py: Python<'py>,
    cache: RefCell<KeyCache<'py>>,
    /// A map's keys (a flattened struct's field names arrive as map keys, in the same static
    /// strings each time) by address, with their text to check that the address still holds it.
    texts: RefCell<TextCache<'py>>,
}

/// (address, length) of a `&str` → its text and Python string.
type TextCache<'py> =
    HashMap<(usize, usize), (Box<str>, Bound<'py, PyString>), BuildHasherDefault<Address>>;

/// (address, length) of a `&'static str` → its Python string.
type KeyCache<'py> = HashMap<(usize, usize), Bound<'py, PyString>, BuildHasherDefault<Address>>;

impl<'py> Keys<'py> {
    fn get(&self, key: &'static str) -> Bound<'py, PyString> {
        self.cache
            .borrow_mut()
            .entry((key.as_ptr() as usize, key.len()))
            .or_insert_with(|| PyString::intern(self.py, key))
            .clone()
    }

    /// A map key's string, made once per distinct text.
    fn text(&self, key: &str) -> Bound<'py, PyString> {
        let at = (key.as_ptr() as usize, key.len());
        if let Some((text, found)) = self.texts.borrow().get(&at) {
            if **text == *key {
                return found.clone();
            }
        }
        let made = PyString::intern(self.py, key);
        self.texts
            .borrow_mut()
            .insert(at, (key.into(), made.clone()));
        made
    }
}

/// A hasher for addresses: one multiply (Fibonacci hashing), enough for a few dozen keys.
#[derive(Default)]
struct Address(u64);

impl Hasher for Address {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A failed conversion: a Python error, or a value JSON cannot hold (serde's message).
#[derive(Debug)]
pub struct Error(PyErr);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(PyValueError::new_err(msg.to_string()))
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The serializer: each value becomes one Python object. `key`: this value is a map's key
/// (a string made once per distinct text).
#[derive(Clone, Copy)]
struct Objects<'a, 'py> {
    keys: &'a Keys<'py>,
    key: bool,
}

impl<'a, 'py> Objects<'a, 'py> {
    fn new(keys: &'a Keys<'py>) -> Self {
        Objects { keys, key: false }
    }

    fn py(self) -> Python<'py> {
        self.keys.py
    }

    fn int(self, v: impl IntoPyObject<'py>) -> Result<Bound<'py, PyAny>> {
        Ok(v.into_bound_py_any(self.py())?)
    }

    fn dict(self) -> Dict<'a, 'py> {
        Dict {
            to: self,
            dict: PyDict::new(self.py()),
            key: None,
        }
    }

    /// `{variant: value}`, serde_json's externally tagged enum.
    fn tagged(self, variant: &'static str, value: Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        let dict = PyDict::new(self.py());
        dict.set_item(self.keys.get(variant), value)?;
        Ok(dict.into_any())
    }
}

impl<'a, 'py> ser::Serializer for Objects<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    type SerializeSeq = List<'a, 'py>;
    type SerializeTuple = List<'a, 'py>;
    type SerializeTupleStruct = List<'a, 'py>;
    type SerializeTupleVariant = List<'a, 'py>;
    type SerializeMap = Dict<'a, 'py>;
    type SerializeStruct = Dict<'a, 'py>;
    type SerializeStructVariant = Dict<'a, 'py>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok> {
        Ok(PyBool::new(self.py(), v).to_owned().into_any())
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok> {
        self.int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Self::Ok> {
        self.int(v)
    }
    /// serde_json writes an `f32` in its own shortest digits, which `json.loads` reads as the
    /// nearest `f64` to that decimal (not the `f32` widened).
    fn serialize_f32(self, v: f32) -> Result<Self::Ok> {
        if !v.is_finite() {
            return self.serialize_unit();
        }
        let decimal: f64 = v.to_string().parse().expect("an f32 prints as a number");
        self.serialize_f64(decimal)
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok> {
        if v.is_finite() {
            Ok(PyFloat::new(self.py(), v).into_any())
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok> {
        if self.key {
            return Ok(self.keys.text(v).into_any());
        }
        // A warning or note names options by marked keys: Python says the spec's key.
        let v = aim_sim::error::with_key_names(v);
        Ok(PyString::new(self.py(), &v).into_any())
    }
    /// serde_json writes bytes as a list of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok> {
        Ok(PyList::new(self.py(), v)?.into_any())
    }
    fn serialize_none(self) -> Result<Self::Ok> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok> {
        Ok(self.py().None().into_bound(self.py()))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok> {
        Ok(self.keys.get(variant).into_any())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok> {
        let inner = value.serialize(self)?;
        self.tagged(variant, inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(List {
            to: self,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        let mut list = self.serialize_seq(Some(len))?;
        list.variant = Some(variant);
        Ok(list)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.dict())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Ok(self.dict())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        let mut dict = self.dict();
        dict.key = Some(self.keys.get(variant).into_any());
        Ok(dict)
    }
}

/// A list being filled; `variant` wraps it as `{variant: [...]}` (a tuple variant).
struct List<'a, 'py> {
    to: Objects<'a, 'py>,
    items: Vec<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'py> List<'_, 'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(self.to)?);
        Ok(())
    }

    fn finish(self) -> Result<Bound<'py, PyAny>> {
        let list = PyList::new(self.to.py(), self.items)?.into_any();
        match self.variant {
            Some(variant) => self.to.tagged(variant, list),
            None => Ok(list),
        }
    }
}

impl<'py> ser::SerializeSeq for List<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

impl<'py> ser::SerializeTuple for List<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

impl<'py> ser::SerializeTupleStruct for List<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

impl<'py> ser::SerializeTupleVariant for List<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok> {
        self.finish()
    }
}

/// A dict being filled. A struct variant keeps its variant in `key` until the end (it becomes
/// `{variant: {...}}`); a map keeps the key whose value comes next.
struct Dict<'a, 'py> {
    to: Objects<'a, 'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
}

impl<'py> ser::SerializeStruct for Dict<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let value = value.serialize(self.to)?;
        self.dict.set_item(self.to.keys.get(key), value)?;
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.dict.into_any())
    }
}

impl<'py> ser::SerializeStructVariant for Dict<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Self::Ok> {
        let variant = self.key.expect("a struct variant names its variant");
        let outer = PyDict::new(self.to.py());
        outer.set_item(variant, self.dict)?;
        Ok(outer.into_any())
    }
}

impl<'py> ser::SerializeMap for Dict<'_, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = Error;
    /// A JSON object's keys are strings: serde_json writes a number or a bool key as its text.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let key = key.serialize(Objects {
            key: true,
            ..self.to
        })?;
        self.key = Some(if key.is_instance_of::<PyString>() {
            key
        } else if key.is_instance_of::<PyBool>() {
            let text = if key.is_truthy()? { "true" } else { "false" };
            PyString::new(self.to.py(), text).into_any()
        } else if key.is_instance_of::<pyo3::types::PyInt>() {
            key.str()?.into_any()
        } else {
            return Err(ser::Error::custom(format!(
                "a map key must be a string or a number to become JSON, not {key}"
            )));
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().expect("serde gives a key before its value");
        let value = value.serialize(self.to)?;
        self.dict.set_item(key, value)?;
        Ok(())
    }
    fn end(self) -> Result<Self::Ok> {
        Ok(self.dict.into_any())
    }
}
