app_name = "testapp"
app_title = "Stand-in Test App"

boot_session = "testapp.boot.boot_session"
extend_bootinfo = "testapp.boot.extend_bootinfo"
