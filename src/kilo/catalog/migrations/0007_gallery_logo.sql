-- kilo catalog, schema version 7: a gallery may burn the photographer's logo into the
-- photos it serves instead of a text (the image file's path on this machine; set from the
-- CLI or the library only, never over HTTP).
ALTER TABLE galleries ADD COLUMN watermark_logo VARCHAR;
