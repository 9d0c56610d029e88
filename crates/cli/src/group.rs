//! Looks up a group by name for `[store] group`, through the C library so
//! that NSS sources (LDAP, sssd) count as they do for `ls` and `chgrp`.
//! No maintained crate in the tree does this; `nix` would add a large
//! dependency for one call.

use std::ffi::CString;

/// The ID of group `name`, or `None` when there is no such group.
pub fn group_id(name: &str) -> std::io::Result<Option<u32>> {
    let Ok(c_name) = CString::new(name) else { return Ok(None) };
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: `group` is plain data that getgrnam_r fills in; `buf`
        // outlives the call and its true length is passed; `found` is only
        // read after the call returns.
        let mut group: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, as above.
        let rc =
            unsafe { libc::getgrnam_r(c_name.as_ptr(), &mut group, buf.as_mut_ptr().cast(), buf.len(), &mut found) };
        match rc {
            0 if found.is_null() => return Ok(None),
            0 => return Ok(Some(group.gr_gid)),
            libc::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 4, 0),
            err => return Err(std::io::Error::from_raw_os_error(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_group_is_zero_and_unknown_groups_are_none() {
        assert_eq!(group_id("root").unwrap(), Some(0));
        assert_eq!(group_id("no-such-group-exhibit").unwrap(), None);
        assert_eq!(group_id("bad\0name").unwrap(), None);
    }
}
