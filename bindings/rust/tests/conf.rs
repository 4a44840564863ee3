//! malloc_conf!: options compiled into the program reach the allocator
//! (this binary runs with the profiler on and a 2^12-byte sample rate
//! without MALLOC_CONF).
use liballoc::{ctl, prof, LibAlloc};

#[global_allocator]
static GLOBAL: LibAlloc = LibAlloc;

liballoc::malloc_conf!("prof:true,lg_prof_sample:12,narenas:3");

#[test]
fn compiled_in_options_are_read() {
    if std::env::var_os("MALLOC_CONF").is_some() {
        eprintln!("skip: MALLOC_CONF is set and may override malloc_conf");
        return;
    }
    assert!(prof::enabled());
    assert_eq!(prof::lg_sample().unwrap(), 12);
    assert_eq!(ctl::read::<u32>("opt.narenas").unwrap(), 3);
    assert_eq!(ctl::read::<u32>("arenas.narenas").unwrap(), 3);
}
