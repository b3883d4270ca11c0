"""Tiny client exports written by the tests (Italian-style CSV: ``;``, decimal comma) and their config."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook

CUSTOMERS_IT = """\
Codice Cliente;Ragione Sociale;Settore;Fido;Giorni Pagamento;Agente
007;Rossi & Figli S.r.l.;Manufacturing;10.000,50;60;Bianchi
C2;Società Verdi;Retail;2.500;30;Neri
"""
TRANSACTIONS_IT = """\
Codice Cliente;Data;Importo;Margine;Prodotto
007;03/01/2026;1.234,56;300,10;Valves
007;15/02/2026;-100,00;-20,00;Valves
C2;28/02/2026;99,90;10,00;Pumps
"""
INVOICES_IT = """\
Numero Fattura;Codice Cliente;Data Emissione;Data Scadenza;Importo;Data Pagamento;Note
F1;007;03/01/2026;04/03/2026;1.234,56;10/03/2026;
F2;007;15/02/2026;17/03/2026;-100,00;;nota di credito
F3;C2;28/02/2026;30/03/2026;99,90;;
"""
COLUMNS = {
    "customers": {"Codice Cliente": "customer_id", "Ragione Sociale": "name", "Settore": "sector",
                  "Fido": "credit_limit", "Giorni Pagamento": "payment_terms_days"},
    "transactions": {"Codice Cliente": "customer_id", "Data": "date", "Importo": "amount", "Margine": "margin",
                     "Prodotto": "product"},
    "invoices": {"Numero Fattura": "invoice_id", "Codice Cliente": "customer_id", "Data Emissione": "issue_date",
                 "Data Scadenza": "due_date", "Importo": "amount", "Data Pagamento": "paid_date"},
}


def make_client(folder: Path, files: dict[str, str], read: dict | None = None, encoding: str = "utf-8-sig",
                as_of: str = "2026-03-31", **tables) -> Path:
    """Write the given exports and a portfolio.yaml mapping them; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(textwrap.dedent(text).encode(encoding))
    config = {"client": "acme", "as_of": as_of, "read": read if read is not None else {},
              "tables": {t: {"path": p, "columns": COLUMNS.get(t, {})} | tables.get(f"{t}_extra", {})
                         for t, p in {"customers": "clienti.csv", "transactions": "movimenti.csv",
                                      "invoices": "fatture.csv"}.items() if p in files}}
    path = folder / "portfolio.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


XSS = "<script>alert(1)</script> S.p.A."

PARAMS = '''config_path: str = ""  # the client's portfolio.yaml
as_of: str = ""  # analysis date
output_dir: str = ""  # run folder
pseudonymise: bool = False  # pseudonyms
'''


def write_notebook(path: Path, params: str, body: str) -> None:
    """A notebook with a tagged parameters cell and one code cell, as the runner expects."""
    cells = [new_code_cell(params), new_code_cell(body)]
    cells[0].metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.write(nb, path)
