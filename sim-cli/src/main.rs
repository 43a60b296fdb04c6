//! shadowsim
fn main() {}
