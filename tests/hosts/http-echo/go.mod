module nomadops.test/http-echo

go 1.19
