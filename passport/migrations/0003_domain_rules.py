"""Issue #7's domain rules: identifier prefixes of organisations, GTIN -> one battery model,
hand-over offers, and the performance values kept with each status change.

Existing GTINs are bound to the model of their earliest battery, so "a GTIN names one model"
holds from now on. Prefixes are NOT derived from existing batteries (a squatter's registrations
would make its claim look legitimate): staff declare them, and until they do an organisation
cannot register new batteries.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def bind_existing_gtins(apps, schema_editor) -> None:
    battery_model = apps.get_model("passport", "Battery")
    model_gtin = apps.get_model("passport", "ModelGtin")
    bound: dict[str, int] = {}
    rows = battery_model.objects.filter(gtin__isnull=False).order_by("created_at", "id").values_list("gtin", "model_id")
    for gtin, model_id in rows.iterator(chunk_size=5000):
        bound.setdefault(gtin, model_id)
    model_gtin.objects.bulk_create([model_gtin(gtin=gtin, model_id=model_id) for gtin, model_id in bound.items()],
                                   batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('passport', '0002_version_immutable_trigger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='battery',
            name='performance_history',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name='ModelGtin',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gtin', models.CharField(max_length=14, unique=True, verbose_name='GTIN-14')),
                ('model', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='gtins', to='passport.batterymodel')),
            ],
        ),
        migrations.CreateModel(
            name='Handover',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('repurpose', 'Repurposing or preparation for repurposing'), ('remanufacture', 'Remanufacturing'), ('prepare-for-reuse', 'Preparation for re-use (from waste)'), ('waste', 'Waste handed to the producer, its PRO or a waste management operator'), ('importer', 'Importer takes over responsibility'), ('authorised-representative', 'Authorised representative takes over'), ('takeover', "Takeover of the operator's business")], max_length=30)),
                ('status', models.CharField(blank=True, choices=[('original', 'Original'), ('repurposed', 'Repurposed'), ('re-used', 'Re-used'), ('remanufactured', 'Remanufactured'), ('waste', 'Waste'), ('recycled', 'Recycled')], max_length=20)),
                ('new_identifier', models.CharField(blank=True, max_length=100)),
                ('reason', models.TextField()),
                ('authorisation', models.JSONField(blank=True, default=dict)),
                ('state', models.CharField(choices=[('offered', 'Offered'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], default='offered', max_length=10)),
                ('offered_at', models.DateTimeField()),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('battery', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers', to='passport.battery')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('from_operator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='passport.organisation')),
                ('model', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='passport.batterymodel')),
                ('offered_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('passport', models.ForeignKey(blank=True, help_text="The battery's passport after the accepted hand-over.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='passport.passport')),
                ('predecessors', models.ManyToManyField(blank=True, related_name='+', to='passport.battery')),
                ('to_operator', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers_received', to='passport.organisation')),
            ],
            options={
                'ordering': ['-offered_at', '-id'],
                'indexes': [models.Index(fields=['to_operator', 'state'], name='passport_ha_to_oper_58403e_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('state', 'offered')), fields=('battery',), name='handover_one_open_per_battery')],
            },
        ),
        migrations.CreateModel(
            name='IdentifierPrefix',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scheme', models.CharField(choices=[('gs1', 'GS1 company prefix'), ('iso15459', 'ISO/IEC 15459 issuing agency code + company identification')], max_length=10)),
                ('prefix', models.CharField(max_length=30)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='identifier_prefixes', to='passport.organisation')),
            ],
            options={
                'ordering': ['scheme', 'prefix'],
                'constraints': [models.UniqueConstraint(fields=('scheme', 'prefix'), name='identifier_prefix_unique')],
            },
        ),
        migrations.RunPython(bind_existing_gtins, migrations.RunPython.noop),
    ]
