"""The Google Sheets client the stages share: reading (``client``: Drive listings, spreadsheet
reads, retries over ``http``), writing (``writer``: the batchUpdate requests that render a tab,
create, share), the unit's report layout (``layout``) and its offline twin (``template``, an
.xlsx), and the guard on uploaded workbooks (``xlsx_guard``). It stands on ``tonghop`` (the
core) only; the emulator backend is chosen by the settings (``client.make_client``)."""
