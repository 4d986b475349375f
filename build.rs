//! Generates the `cleope` binary's lazy link to GDAL (see `src/lazy_gdal.rs`).
//!
//! Linking libgdal the usual way makes the dynamic loader map and relocate
//! GDAL and its 113 dependencies before `main` runs: 35 ms and 34 MiB for a
//! program that does nothing, paid by every `cleope --version`, REPL and
//! Jupyter kernel start whether or not a cell ever reads a raster. The binary
//! instead defines every C function libgdal exports as a two-instruction
//! trampoline; the first call of each looks the real function up after
//! loading the library. With the references satisfied by the binary itself,
//! the linker (`--as-needed`, rustc's default) no longer records libgdal.
//!
//! This script reads libgdal's export table and SONAME with the `object`
//! crate and writes `lazy_gdal.s` (trampolines, first-call stubs and the
//! address table) and `lazy_gdal.rs` (the names and the SONAME) to OUT_DIR.

use object::read::elf::{Dyn, FileHeader, SectionHeader, Sym};
use object::{Endianness, elf};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GDAL_LIB_DIR");
    let target = |key| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_ARCH") != "x86_64" || target("CARGO_CFG_TARGET_OS") != "linux" {
        // The trampolines are x86-64 ELF assembly; elsewhere the binary
        // links GDAL the usual way (src/main.rs compiles lazy_gdal only here).
        return;
    }
    let library = gdal_library_path();
    println!("cargo:rerun-if-changed={}", library.display());
    let bytes = std::fs::read(&library)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", library.display()));
    let (soname, mut functions) = soname_and_c_functions(&bytes, &library);
    functions.sort();
    functions.dedup();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    write(&out.join("lazy_gdal.s"), &assembly(&functions));
    write(&out.join("lazy_gdal.rs"), &rust_tables(&soname, &functions));
}

/// The libgdal.so the linker will use: `$GDAL_LIB_DIR/libgdal.so` when set
/// (as gdal-sys honours it), else the one the C compiler's linker finds.
fn gdal_library_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("GDAL_LIB_DIR") {
        return Path::new(&dir).join("libgdal.so");
    }
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&compiler)
        .arg("-print-file-name=libgdal.so")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{compiler}` to find libgdal.so: {e}"));
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !path.is_absolute() || !path.exists() {
        panic!(
            "libgdal.so not found by `{compiler} -print-file-name`: install GDAL's development \
             files (apt-get install libgdal-dev) or set GDAL_LIB_DIR"
        );
    }
    path
}

/// libgdal's SONAME and the names of the C functions it exports (C++
/// symbols, `_Z…`, are not callable from Rust and are left out).
fn soname_and_c_functions(bytes: &[u8], path: &Path) -> (String, Vec<String>) {
    let header = elf::FileHeader64::<Endianness>::parse(bytes)
        .unwrap_or_else(|e| panic!("{} is not a 64-bit ELF library: {e}", path.display()));
    let endian = header.endian().expect("ELF endianness");
    let sections = header.sections(endian, bytes).expect("ELF section table");
    let symbols = sections
        .symbols(endian, bytes, elf::SHT_DYNSYM)
        .expect("ELF dynamic symbols");
    let functions = symbols
        .iter()
        .filter(|symbol| {
            symbol.st_type() == elf::STT_FUNC
                && symbol.st_shndx(endian) != elf::SHN_UNDEF
                && matches!(symbol.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK)
        })
        .filter_map(|symbol| symbol.name(endian, symbols.strings()).ok())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .filter(|name| !name.starts_with("_Z") && !name.contains('@'))
        .collect();
    (soname(&sections, endian, bytes, path), functions)
}

fn soname(
    sections: &object::read::elf::SectionTable<elf::FileHeader64<Endianness>>,
    endian: Endianness,
    bytes: &[u8],
    path: &Path,
) -> String {
    for section in sections.iter() {
        let Some((entries, strings_index)) = section.dynamic(endian, bytes).ok().flatten() else {
            continue;
        };
        let strings = sections
            .strings(endian, bytes, strings_index)
            .expect("ELF dynamic strings");
        for entry in entries {
            if entry.tag32(endian) == Some(elf::DT_SONAME) {
                let name = entry.string(endian, strings).expect("SONAME string");
                return String::from_utf8_lossy(name).into_owned();
            }
        }
    }
    panic!("{} has no SONAME", path.display())
}

/// x86-64 assembly (Intel syntax, for `global_asm!`): per function a hidden
/// trampoline jumping through its table slot and a stub, the slot's first
/// target, that hands the function's index to the shared resolver. The
/// resolver's address is the `{resolve}` operand. As in Implib.so, each
/// piece carries CFI directives (call frame information, the `.eh_frame`
/// entries unwinders read): the trampoline and stub only jump, so their
/// frame is the caller's (`.cfi_startproc` alone says so); the resolver
/// says where it moves the frame, so that a backtrace taken inside a first
/// call (a panic, a profiler, GDAL's error handler) continues to the code
/// that called GDAL.
fn assembly(functions: &[String]) -> String {
    let mut asm = String::from(".pushsection .text.cleope_lazy_gdal,\"ax\",@progbits\n");
    for (index, name) in functions.iter().enumerate() {
        writeln!(
            asm,
            ".p2align 3\n.globl {name}\n.hidden {name}\n.type {name},@function\n{name}:\n\
             \t.cfi_startproc\n\
             \tjmp qword ptr [rip + cleope_lazy_gdal_table + {offset}]\n\
             cleope_lazy_gdal_stub_{index}:\n\tmov r11d, {index}\n\tjmp cleope_lazy_gdal_resolve\n\
             \t.cfi_endproc\n.size {name}, .-{name}",
            offset = index * 8
        )
        .unwrap();
    }
    asm.push_str(RESOLVER);
    asm.push_str(".popsection\n.pushsection .data.cleope_lazy_gdal,\"aw\",@progbits\n");
    asm.push_str(".p2align 3\n.globl cleope_lazy_gdal_table\n.hidden cleope_lazy_gdal_table\n");
    asm.push_str("cleope_lazy_gdal_table:\n");
    for index in 0..functions.len() {
        writeln!(asm, "\t.quad cleope_lazy_gdal_stub_{index}").unwrap();
    }
    asm.push_str(".popsection\n");
    asm
}

/// Entered by a jump from a stub with the function's index in r11 and the
/// caller's arguments still in registers: saves every register that can
/// carry an argument (rax carries the vector count of a variadic call),
/// asks `{resolve}` for the real address, restores them and jumps there, so
/// the real function sees the original call.
///
/// CFI: on entry the canonical frame address (CFA) is rsp + 8, the return
/// address into GDAL's caller at rsp. After `push rbp` it is rsp + 16 with
/// the caller's rbp at CFA - 16; after `mov rbp, rsp` it is rbp + 16 for
/// the rest of the body, whatever the pushes below do to rsp (they save
/// argument registers, which the caller does not expect kept, so the
/// unwinder need not restore them). After `pop rbp`: rsp + 8 again.
/// Registers are given by DWARF number (6 = rbp, 7 = rsp), which every
/// assembler accepts in either syntax.
const RESOLVER: &str = "
.p2align 4
.type cleope_lazy_gdal_resolve,@function
cleope_lazy_gdal_resolve:
\t.cfi_startproc
\tpush rbp
\t.cfi_def_cfa_offset 16
\t.cfi_offset 6, -16
\tmov rbp, rsp
\t.cfi_def_cfa_register 6
\tpush rdi
\tpush rsi
\tpush rdx
\tpush rcx
\tpush r8
\tpush r9
\tpush rax
\tpush r10
\tsub rsp, 128
\tmovdqu [rsp], xmm0
\tmovdqu [rsp + 16], xmm1
\tmovdqu [rsp + 32], xmm2
\tmovdqu [rsp + 48], xmm3
\tmovdqu [rsp + 64], xmm4
\tmovdqu [rsp + 80], xmm5
\tmovdqu [rsp + 96], xmm6
\tmovdqu [rsp + 112], xmm7
\tmov edi, r11d
\tcall {resolve}
\tmov r11, rax
\tmovdqu xmm0, [rsp]
\tmovdqu xmm1, [rsp + 16]
\tmovdqu xmm2, [rsp + 32]
\tmovdqu xmm3, [rsp + 48]
\tmovdqu xmm4, [rsp + 64]
\tmovdqu xmm5, [rsp + 80]
\tmovdqu xmm6, [rsp + 96]
\tmovdqu xmm7, [rsp + 112]
\tadd rsp, 128
\tpop r10
\tpop rax
\tpop r9
\tpop r8
\tpop rcx
\tpop rdx
\tpop rsi
\tpop rdi
\tpop rbp
\t.cfi_def_cfa 7, 8
\tjmp r11
\t.cfi_endproc
.size cleope_lazy_gdal_resolve, .-cleope_lazy_gdal_resolve
";

/// The function names (indexed like the table) and the SONAME, as Rust.
fn rust_tables(soname: &str, functions: &[String]) -> String {
    let mut rust = format!(
        "/// The library's SONAME, the name it is loaded by.\n\
         pub const GDAL_SONAME: &std::ffi::CStr = c\"{soname}\";\n\
         /// How many C functions libgdal exports.\n\
         pub const GDAL_FUNCTION_COUNT: usize = {count};\n\
         /// The C functions libgdal exports, in table order.\n\
         pub static GDAL_FUNCTIONS: [&std::ffi::CStr; GDAL_FUNCTION_COUNT] = [\n",
        count = functions.len()
    );
    for name in functions {
        writeln!(rust, "    c\"{name}\",").unwrap();
    }
    rust.push_str("];\n");
    rust
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
