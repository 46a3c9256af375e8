use std::ffi::OsString; pub fn main(args: Vec<OsString>) -> i32 { let _ = args; 0 }
