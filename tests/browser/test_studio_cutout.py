"""The car-listing view on real photos: the device's network cuts out, and a doubtful cut-out says so."""

import numpy as np
import samples
from PIL import Image
from test_studio_support import file_payload, open_studio, row, shot, stage, start, wait_rows


def test_car_listing_rows_say_how_sure_the_cut_out_is(browser, site_url):
    cup = np.asarray(samples.image("coffee.png").convert("RGB"))
    two_cups = samples.encode(Image.fromarray(np.concatenate([cup, cup], 1)), "JPEG", quality=90)
    bike = samples.encode(samples.image("motorcycle_left.png").convert("RGB"), "JPEG", quality=90)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = open_studio(context, f"{site_url}?nosw#car-listing")
        stage(page, "car-listing", [file_payload("bike.jpg", bike), file_payload("two-cups.jpg", two_cups)])
        start(page, "car-listing")
        wait_rows(page, "car-listing", 2, timeout=120_000)
        bike_row, cups_row = row(page, "car-listing", "bike.jpg"), row(page, "car-listing", "two-cups.jpg")
        assert bike_row.get_attribute("data-status") == "done" == cups_row.get_attribute("data-status")
        bike_msg = bike_row.locator(".job-msg").inner_text()
        assert "cut-out: this device" in bike_msg and "may be wrong" not in bike_msg
        assert "The cut-out may be wrong: two separate subjects were found." in cups_row.locator(".job-msg").inner_text()
        # Cropped to the bike with 50 px margins: had the garage been kept, it would be 841x600.
        caption = bike_row.locator(".outputs-strip figcaption").first.inner_text()  # "processed · 672×421 · 310 kB"
        w, h = (int(v) for v in caption.split(" · ")[1].split("×"))
        assert caption.startswith("processed") and w < 741 and h < 500, caption
        shot(page, "studio-car-listing-real-photos")
    finally:
        context.close()
