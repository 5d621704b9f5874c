"""The kecamatan's review of cadre submissions: diverifikasi, perlu perbaikan, ditolak — with a note."""
